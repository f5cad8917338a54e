"""A click-free answer to click's completion protocol, for the names offered at Tab.

The scripts in completions/ are click's. They run `authsome` with _AUTHSOME_COMPLETE set.
Importing click alone costs about three interpreter start-ups, so the common question --
"which names fit this argument?" -- is answered here in click's own output format. Anything
else (options, command names, quoting) returns None and click answers it.
tests/test_completion.py checks that both give the same answer.
"""

from __future__ import annotations

from authsome.services import complete

PROVIDERS = "providers"
CONNECTIONS = "connections"

# command -> (what its name arguments complete to, how many it takes; None for any number).
# Must agree with the shell_complete callbacks of the click commands; a test compares them.
NAME_ARGUMENTS = {
    "env": (CONNECTIONS, None),
    "inspect": (PROVIDERS, 1),
    "kube-credential": (CONNECTIONS, 1),
    "login": (PROVIDERS, 1),
    "log": (CONNECTIONS, 1),
    "logout": (CONNECTIONS, 1),
    "run": (CONNECTIONS, None),  # names before `--`; a `--` sends the question to click
    "setup-git": (CONNECTIONS, None),
    "setup-kube": (CONNECTIONS, 1),
    "token": (CONNECTIONS, 1),
}

# click's ShellComplete.format_completion for a plain item with no help, per shell.
_FORMATS = {
    "bash_complete": "plain,{}",
    "fish_complete": "plain,{}",
    "zsh_complete": "plain\n{}\n_",
}

# Characters after which shlex (click's split) and str.split could disagree.
_UNSAFE = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


CHOICES = {PROVIDERS: complete.provider_names, CONNECTIONS: complete.connected_refs}


def _split(text: str) -> list[str] | None:
    if not text.isascii() or any(c in _UNSAFE for c in text):
        return None
    return text.split()


def _request(environ) -> tuple[list[str], str] | None:
    """(args, incomplete) as click's ShellComplete.get_completion_args gives them."""
    words = _split(environ.get("COMP_WORDS", ""))
    if words is None:
        return None
    if environ["_AUTHSOME_COMPLETE"] == "fish_complete":
        current = _split(environ.get("COMP_CWORD", ""))
        if current is None or (environ.get("COMP_CWORD") and not current):
            return None  # blank but not empty: click's own answer (it fails) stands
        incomplete = current[0] if current else ""
        args = words[1:]
        if incomplete and args and args[-1] == incomplete:
            args.pop()
        return args, incomplete
    try:
        cword = int(environ.get("COMP_CWORD", ""))
    except ValueError:
        return None
    if cword < 1:
        return None
    return words[1:cword], words[cword] if cword < len(words) else ""


def answer(environ, make_context) -> str | None:
    """The completion output for a name argument, or None when click should answer."""
    line = _FORMATS.get(environ.get("_AUTHSOME_COMPLETE", ""))
    request = line and _request(environ)
    if not request:
        return None
    args, incomplete = request
    if not args or args[0] not in NAME_ARGUMENTS or (incomplete and not incomplete[0].isalnum()):
        return None
    kind, most = NAME_ARGUMENTS[args[0]]
    given = args[1:]
    if any(a.startswith("-") for a in given) or (most is not None and len(given) >= most):
        return None
    names = CHOICES[kind](make_context(), incomplete)
    return "\n".join(line.format(n) for n in names)
