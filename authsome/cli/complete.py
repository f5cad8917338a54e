"""click's side of Tab: its completion scripts, and callbacks naming what authsome.services.complete
offers."""

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    ZshComplete,
    add_completion_class,
)

from authsome.services import complete as names

# click's bash script, plus: bash splits NAME:connection at the colon (COMP_WORDBREAKS), so
# when bash-completion is loaded its helpers give click the words whole and trim the replies
# to the part after the colon, as bash expects. Without bash-completion it is click's script.
BASH_SOURCE = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local response cur words cword

    if declare -F _get_comp_words_by_ref >/dev/null; then
        _get_comp_words_by_ref -n : cur words cword
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    response=$(env COMP_WORDS="${words[*]}" COMP_CWORD=$cword \
%(complete_var)s=bash_complete $1)

    for completion in $response; do
        IFS=',' read type value <<< "$completion"

        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=($value)
        fi
    done

    if declare -F __ltrim_colon_completions >/dev/null; then
        __ltrim_colon_completions "$cur"
    fi
    return 0
}

%(complete_func)s_setup() {
    complete -o nosort -F %(complete_func)s %(prog_name)s
}

%(complete_func)s_setup;
"""


class BashColonComplete(BashComplete):
    """click's bash completion, keeping NAME:connection whole."""

    source_template = BASH_SOURCE


add_completion_class(BashColonComplete)

# click's zsh script calls compdef when eval'd, which fails ("command not found: compdef") in a
# .zshrc that has not run compinit yet, and a compinit run later forgets what it registered.
# So it registers at the first prompt, when .zshrc is done, and runs compinit only if nothing
# else has by then (and at once too, when compinit already ran).
ZSH_REGISTER = """\
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # autoload from fpath, call function directly
    %(complete_func)s "$@"
else
    # eval/source/. command: register now if compinit has run, and at the first prompt
    (( $+functions[compdef] )) && compdef %(complete_func)s %(prog_name)s
    %(complete_func)s_setup() {
        add-zsh-hook -d precmd %(complete_func)s_setup
        unfunction %(complete_func)s_setup
        if (( ! $+functions[compdef] )); then
            autoload -Uz compinit && compinit -i
        fi
        compdef %(complete_func)s %(prog_name)s
    }
    autoload -Uz add-zsh-hook
    add-zsh-hook precmd %(complete_func)s_setup
fi
"""


def _zsh_body(template: str) -> str | None:
    """click's zsh script without its registering tail: the `$zsh_eval_context` block since
    click 8.1.4, a bare `compdef` line before (Debian 12 ships 8.1.3); None if neither."""
    for tail in ("if [[ $zsh_eval_context", "compdef %(complete_func)s %(prog_name)s"):
        body, found, _ = template.rpartition(tail)
        if found:
            return body
    return None


_ZSH_BODY = _zsh_body(ZshComplete.source_template)


class ZshCompinitComplete(ZshComplete):
    """click's zsh completion, working whether or not compinit has run."""

    source_template = (
        ZshComplete.source_template
        if _ZSH_BODY is None  # an unknown click: leave it be
        else _ZSH_BODY + ZSH_REGISTER
    )


add_completion_class(ZshCompinitComplete)


def _context(ctx: click.Context):
    root = ctx.find_root()
    if root.obj is None:
        from authsome.factory import Context

        root.obj = Context()
    return root.obj


def provider_names(ctx: click.Context, param, incomplete):
    return [CompletionItem(n) for n in names.provider_names(_context(ctx), incomplete)]


def connected_refs(ctx: click.Context, param, incomplete):
    return [CompletionItem(r) for r in names.connected_refs(_context(ctx), incomplete)]
