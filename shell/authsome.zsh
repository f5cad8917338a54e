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
    if code="$(@AUTHSOME@ env --shell zsh ${=AUTHSOME_REFS-})"; then
      eval "$code"
    elif [[ -n "${AUTHSOME_EXPIRES_AT-}" && "$AUTHSOME_EXPIRES_AT" != *[^0-9]* ]] &&
      (( EPOCHSECONDS >= 10#$AUTHSOME_EXPIRES_AT )); then
      print -u2 "authsome: could not refresh ${AUTHSOME_REFS-}; unset the expired variables."
      eval "$(@AUTHSOME@ env --unset --shell zsh)"
    else
      print -u2 "authsome: could not refresh ${AUTHSOME_REFS-}; will retry in a minute."
      AUTHSOME_REFRESH_AT=$((EPOCHSECONDS + 60))
    fi
  fi
  return $rc
}

autoload -Uz add-zsh-hook
add-zsh-hook precmd _authsome_hook
