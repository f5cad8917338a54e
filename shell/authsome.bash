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
      # shellcheck disable=SC2086 # AUTHSOME_REFS is a list of words on purpose
      if code="$(@AUTHSOME@ env --shell bash ${AUTHSOME_REFS-})"; then
        eval "$code"
      elif [[ -n "${AUTHSOME_EXPIRES_AT-}" && "$AUTHSOME_EXPIRES_AT" != *[!0-9]* ]] &&
        (( now >= 10#$AUTHSOME_EXPIRES_AT )); then
        printf 'authsome: could not refresh %s; unset the expired variables.\n' \
          "${AUTHSOME_REFS-}" >&2
        eval "$(@AUTHSOME@ env --unset --shell bash)"
      else
        printf 'authsome: could not refresh %s; will retry in a minute.\n' \
          "${AUTHSOME_REFS-}" >&2
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
