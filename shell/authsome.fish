# authsome prompt hook for fish. Install: authsome hook fish | source   (in config.fish)
# Before each prompt it compares the clock with $AUTHSOME_REFRESH_AT using builtins only
# (path mtime), and starts no process at all unless a credential is due for refresh. Its times
# must be plain digits before they are compared.
# fish has no clock builtin: now = a file's mtime + the seconds since it. Something may
# change / between the two reads, which would put the clock behind: read until it did not.
function __authsome_now
    for i in 1 2 3
        set -l mtime (path mtime /)
        set -l since (path mtime --relative /)
        if test "$mtime" = "$(path mtime /)"
            math $mtime + $since
            return
        end
    end
    date +%s
end

function __authsome_hook --on-event fish_prompt
    set -l rc $status
    if string match -qr '^[0-9]+$' -- "$AUTHSOME_REFRESH_AT"
        set -l now (__authsome_now)
        if test $now -ge $AUTHSOME_REFRESH_AT
            set -l refs (string split ' ' -- "$AUTHSOME_REFS")
            # env exports what it can, unsets only what failed and says so once per failure,
            # and sets the next AUTHSOME_REFRESH_AT. No code at all: authsome itself failed
            # (and said why), so try again in a minute rather than at every prompt.
            set -l code (@AUTHSOME@ env --shell fish $refs </dev/null | string collect)
            if test -n "$code"
                printf '%s\n' $code | source
            else
                set -gx AUTHSOME_REFRESH_AT (math $now + 60)
            end
        end
    end
    return $rc
end
