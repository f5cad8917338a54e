# authsome prompt hook for fish. Install: authsome hook fish | source   (in config.fish)
# Before each prompt it compares the clock with $AUTHSOME_REFRESH_AT using builtins only
# (path mtime), and starts no process at all unless a credential is due for refresh. Its times
# must be plain digits before they are compared.
function __authsome_hook --on-event fish_prompt
    set -l rc $status
    if string match -qr '^[0-9]+$' -- "$AUTHSOME_REFRESH_AT"
        # fish has no clock builtin: now = a file's mtime + the seconds since it.
        set -l now (math (path mtime /) + (path mtime --relative /))
        if test $now -ge $AUTHSOME_REFRESH_AT
            set -l refs (string split ' ' -- "$AUTHSOME_REFS")
            if set -l code (@AUTHSOME@ env --shell fish $refs | string collect)
                printf '%s\n' $code | source
            else if string match -qr '^[0-9]+$' -- "$AUTHSOME_EXPIRES_AT"
                and test $now -ge $AUTHSOME_EXPIRES_AT
                echo "authsome: could not refresh $AUTHSOME_REFS; unset the expired variables." >&2
                @AUTHSOME@ env --unset --shell fish | source
            else
                echo "authsome: could not refresh $AUTHSOME_REFS; will retry in a minute." >&2
                set -gx AUTHSOME_REFRESH_AT (math $now + 60)
            end
        end
    end
    return $rc
end
