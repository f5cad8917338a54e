# authsome prompt hook for zsh. Install: eval "$(authsome hook zsh)" in ~/.zshrc
# Before each prompt it compares $EPOCHSECONDS with $AUTHSOME_REFRESH_AT and starts no
# process at all unless an exported credential is due for refresh. Its times must be plain
# digits before any arithmetic, which would evaluate any other value as an expression.
zmodload zsh/datetime 2>/dev/null

_authsome_hook() {
  local rc=$?
  if [[ -n "${AUTHSOME_REFRESH_AT-}" && "$AUTHSOME_REFRESH_AT" != *[^0-9]* ]] &&
    (( EPOCHSECONDS >= 10#$AUTHSOME_REFRESH_AT )); then
    local code
    # env exports what it can, unsets only what failed and says so once per failure, and
    # sets the next AUTHSOME_REFRESH_AT. No code at all: authsome itself failed (and said
    # why), so try again in a minute rather than at every prompt.
    code="$(@AUTHSOME@ env --shell zsh ${=AUTHSOME_REFS-} </dev/null)"
    if [[ -n "$code" ]]; then
      eval "$code"
    else
      AUTHSOME_REFRESH_AT=$((EPOCHSECONDS + 60))
    fi
  fi
  return $rc
}

autoload -Uz add-zsh-hook
add-zsh-hook precmd _authsome_hook
