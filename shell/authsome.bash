# authsome prompt hook for bash. Install: eval "$(authsome hook bash)" in ~/.bashrc
# Before each prompt it compares the clock with $AUTHSOME_REFRESH_AT in pure bash and starts
# no process at all unless an exported credential is due for refresh. Its times must be plain
# digits before any arithmetic: (( )) would evaluate a value like a[$(cmd)].
_authsome_hook() {
  local rc=$?
  if [[ -n "${AUTHSOME_REFRESH_AT-}" && "$AUTHSOME_REFRESH_AT" != *[!0-9]* ]]; then
    local now
    printf -v now '%(%s)T' -1
    if (( now >= 10#$AUTHSOME_REFRESH_AT )); then
      local code
      # env exports what it can, unsets only what failed and says so once per failure, and
      # sets the next AUTHSOME_REFRESH_AT. No code at all: authsome itself failed (and said
      # why), so try again in a minute rather than at every prompt.
      # shellcheck disable=SC2086 # AUTHSOME_REFS is a list of words on purpose
      code="$(@AUTHSOME@ env --shell bash ${AUTHSOME_REFS-} </dev/null)"
      if [[ -n "$code" ]]; then
        eval "$code"
      else
        AUTHSOME_REFRESH_AT=$((now + 60))
      fi
    fi
  fi
  return "$rc"
}

if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  if [[ " ${PROMPT_COMMAND[*]} " != *" _authsome_hook "* ]]; then
    PROMPT_COMMAND=(_authsome_hook "${PROMPT_COMMAND[@]}")
  fi
elif [[ ";${PROMPT_COMMAND-};" != *";_authsome_hook;"* ]]; then
  PROMPT_COMMAND="_authsome_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
