"""A click-free answer to click's completion protocol, for names and declared options at Tab.

The scripts in completions/ are click's. They run `authsome` with _AUTHSOME_COMPLETE set.
Importing click alone costs about three interpreter start-ups, so the common questions --
"which names fit this argument?", and for the commands declared in cli/options.py "which
options start so?" and "which values does this option take?" -- are answered here in click's
own output format. Anything else (command names, other commands' options, quoting, options
after options) returns None and click answers it.
tests/test_completion.py checks that both give the same answer.
"""

from __future__ import annotations

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
    "mcp": (CONNECTIONS, 1),
    "run": (CONNECTIONS, None),  # names before `--`; a `--` sends the question to click
    "setup-git": (CONNECTIONS, None),
    "setup-kube": (CONNECTIONS, 1),
    "setup-shell": (CONNECTIONS, None),
    "token": (CONNECTIONS, 1),
}

# The help option click adds to every command (root.py's help_option_names), last in its params.
HELP_OPTION = {
    "names": ("-h", "--help"),
    "flag": True,
    "shown": {"help": "Show this message and exit."},
}


# click's ShellComplete.format_completion for a plain item, per shell; `help_` may be None.
# `kind` is click's CompletionItem type: "plain", or "file" (the shell completes file names).
def _bash(value: str, help_: str | None, kind: str = "plain") -> str:
    return f"{kind},{value}"


def _zsh(value: str, help_: str | None, kind: str = "plain") -> str:
    if help_:  # zsh's _describe splits value from help at the first unescaped colon
        value = value.replace(":", r"\:")
    return f"{kind}\n{value}\n{help_ or '_'}"


def _fish(value: str, help_: str | None, kind: str = "plain") -> str:
    if help_:
        return f"{kind},{value}\t" + help_.replace("\n", "\\n").replace("\t", " ")
    return f"{kind},{value}"


_FORMATS = {"bash_complete": _bash, "zsh_complete": _zsh, "fish_complete": _fish}

# Characters after which shlex (click's split) and str.split could disagree.
_UNSAFE = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


# kind -> its function in services.complete, imported only for names: Tab on an option skips it.
CHOICES = {PROVIDERS: "provider_names", CONNECTIONS: "connected_refs"}


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
        return _fish_request(words, environ.get("COMP_CWORD", ""))
    return _indexed_request(words, environ.get("COMP_CWORD", ""))


def _fish_request(words: list[str], cword: str) -> tuple[list[str], str] | None:
    """fish sends the word being completed itself, and the line up to it."""
    current = _split(cword)
    if current is None or (cword and not current):
        return None  # blank but not empty: click's own answer (it fails) stands
    incomplete = current[0] if current else ""
    args = words[1:]
    if incomplete and args and args[-1] == incomplete:
        args.pop()
    return args, incomplete


def _indexed_request(words: list[str], cword: str) -> tuple[list[str], str] | None:
    """bash and zsh send the index of the word being completed."""
    try:
        index = int(cword)
    except ValueError:
        return None
    if index < 1:
        return None
    return words[1:index], words[index] if index < len(words) else ""


def answer(environ, make_context=None) -> str | None:
    """The completion output for a name or a declared option, or None when click should
    answer. The names come from `make_context()`, by default services.complete.TabContext."""
    if make_context is None:
        make_context = lambda: _tab_context(environ)  # noqa: E731
    line = _FORMATS.get(environ.get("_AUTHSOME_COMPLETE", ""))
    request = line and _request(environ)
    if not request or not request[0]:
        return None
    args, incomplete = request
    items = _option_items(args, incomplete)
    if items is None:
        items = _name_items(args, incomplete, make_context)
    if items is None:
        return None
    return "\n".join(line(*item) for item in items)


def _tab_context(environ):
    from authsome.services import complete

    if complete.TabContext.suits(environ):
        return complete.TabContext(environ)
    from authsome.factory import Context

    return Context()


def _option_items(args: list[str], incomplete: str) -> list | None:
    """(value, help) for an option name or an option's value of a declared command, as click's
    Command.shell_complete and Choice.shell_complete give them; None for any other question."""
    if not (incomplete.startswith(("-", "=")) or args[-1].startswith("-")):
        return None  # a name, not an option: Tab on names does without cli/options.py's imports
    from authsome.cli.options import COMMANDS as DECLARED

    spec = DECLARED.get(args[0])
    if spec is None:
        return None
    given, incomplete = _split_attached(args[1:], incomplete)
    *before, last = given or [""]
    # An option given earlier changes what click offers (it drops options already given).
    if any(word[:1] == "-" for word in before):
        return None
    options = (*spec["options"], HELP_OPTION)
    if incomplete[:1] != "-":
        return _option_values(options, last, incomplete)
    return None if last[:1] == "-" else _option_names(options, incomplete)


def _split_attached(given: list[str], incomplete: str) -> tuple[list[str], str]:
    """As click does: a lone `=` is dropped, and --shell=f is completed as --shell f."""
    if incomplete == "=":
        return given, ""
    if incomplete[:1] == "-" and "=" in incomplete:
        name, _, value = incomplete.partition("=")
        return [*given, name], value
    return given, incomplete


def _option_names(options, incomplete: str) -> list:
    return [
        (name, opt["shown"].get("help"))
        for opt in options
        for name in opt["names"]
        if name.startswith(incomplete)
    ]


def _option_values(options, last: str, incomplete: str) -> list | None:
    """The choices of the option `last` that start with `incomplete`; None if `last` is not an
    option taking a value."""
    opt = next((o for o in options if last in o["names"]), None)
    if opt is None or opt["flag"]:
        return None
    if opt["files"]:  # click.Path's answer: the shell completes file names
        return [(incomplete, None, "file")]
    return [(choice, None) for choice in opt["choices"] if choice.startswith(incomplete)]


def _name_items(args: list[str], incomplete: str, make_context) -> list | None:
    """(name, None) for a name argument, or None when click should answer."""
    if args[0] not in NAME_ARGUMENTS or (incomplete and not incomplete[0].isalnum()):
        return None
    kind, most = NAME_ARGUMENTS[args[0]]
    given = args[1:]
    if any(a.startswith("-") for a in given) or (most is not None and len(given) >= most):
        return None
    from authsome.services import complete

    names = getattr(complete, CHOICES[kind])(make_context(), incomplete)
    return [(name, None) for name in names]
