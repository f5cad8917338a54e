"""`token`, `env`, `list` and `mcp` without click.

Why this exists: `env` runs in every shell start-up and at prompts (the hook), `token` before
each API call an agent makes, and `list` is what people and scripts check first, while
importing click alone costs about three interpreter start-ups. So their plain forms are parsed
here, from the declaration click reads too (cli/options.py), and run through the same functions
below. `mcp NAME` is here for its start-up: an MCP client starts a bridge per server per
session and waits for its answer to `initialize`. Anything else (help, unknown options, bad
values) returns None and click takes over, so its messages stay the only ones.
tests/test_fastpath.py checks that both paths print the same and exit the same.
"""

from __future__ import annotations

from authsome.cli.options import COMMANDS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable

    from authsome.errors import AuthsomeError
    from authsome.factory import Context


def run_token(ctx: Context, name: str, connection: str | None) -> int:
    from authsome.services.token import token

    ctx.io.emit(token(ctx, name, connection))
    return 0


def run_env(ctx: Context, names, shell, fmt, unset, strict, env_files):
    """0, or the error that sets the exit status (main maps it: its table is the one place)."""
    from authsome.services import env

    # What it can: each name it skips gets a line on stderr, the first sets the exit status.
    error = env.run(ctx, list(names), shell, fmt, unset, strict, env_files)
    return 0 if error is None else error


def run_list(ctx: Context, as_json) -> int:
    from authsome.services.listing import render, rows

    table = rows(ctx)
    if as_json:
        import json

        ctx.io.emit(json.dumps(table, indent=2))
    elif table:
        ctx.io.emit(render(table))
    else:
        ctx.io.say("No connections yet. Log in with: authsome login NAME")
    return 0


def run_mcp(ctx: Context, name: str) -> int:
    import gc
    import sys

    from authsome.services.mcp import serve

    gc.enable()  # main() turns it off for the short commands; a bridge lives as long as a session
    serve(ctx, name, sys.stdin, sys.stdout, sys.stderr)
    return 0


RUNS: dict[str, Callable[..., int | AuthsomeError]] = {
    "token": run_token,
    "env": run_env,
    "list": run_list,
    "mcp": run_mcp,
}


def run(args: list[str]) -> int | AuthsomeError | None:
    """The exit status of `authsome ARGS`, or None when click should handle them."""
    # Only the commands in RUNS: the others are declared for Tab, and `parse` does not check
    # what click's types (an IntRange, say) would.
    if args[:2] == ["mcp", "config"]:  # a command of its own, not a NAME (cli/mcp.py)
        return None
    spec = COMMANDS.get(args[0]) if args and args[0] in RUNS else None
    given = parse(args[1:], spec) if spec else None
    if given is None:
        return None
    from authsome.factory import Context

    return RUNS[args[0]](Context(), **given)


def parse(args: list[str], spec: dict) -> dict | None:
    """The keywords click would pass for `args`, or None when click should handle them."""
    scanned = _scan(args, spec["options"])
    if scanned is None:
        return None
    given, positionals = scanned
    if not _choices_hold(given, spec["options"]):
        return None
    return _bind(given, positionals, spec["argument"])


def _scan(args: list[str], options) -> tuple[dict, list[str]] | None:
    """(option keywords, positional words) in `args`; None at an option click must judge."""
    by_name = {name: opt for opt in options for name in opt["names"]}
    given = {opt["dest"]: opt["default"] for opt in options}
    repeatable = {opt["dest"] for opt in options if opt["many"]}
    positionals: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":  # the end of options, as for click
            positionals.extend(rest)
        elif arg[:1] != "-" or arg == "-":
            positionals.append(arg)
        else:
            taken = _option(arg, rest, by_name)
            if taken is None:
                return None
            dest, value = taken
            # The last one counts, as for click; a repeatable option adds up.
            given[dest] = (*given[dest], value) if dest in repeatable else value
    return given, positionals


def _choices_hold(given: dict, options) -> bool:
    """click checks a choice on the value that counts only."""
    return all(
        given[opt["dest"]] in (*opt["choices"], opt["default"]) for opt in options if opt["choices"]
    )


def _bind(given: dict, positionals: list[str], argument) -> dict | None:
    """`given` with the positional words under the argument's keyword; None when click would
    refuse their number."""
    if argument is None:
        return None if positionals else given
    keyword, nargs = argument
    if nargs == -1:
        given[keyword] = tuple(positionals)
    elif len(positionals) == 1 == nargs:
        given[keyword] = positionals[0]
    else:
        return None
    return given


def _option(arg: str, rest, by_name: dict) -> tuple[str, object] | None:
    """(keyword, value) for the option `arg`, its value maybe the next of `rest`; None when it
    is not a plain use of a declared option."""
    value: str | None
    if arg.startswith("--"):
        name, equals, value = arg.partition("=")
        attached = bool(equals)
    else:  # a short option's value may follow it in the same word: -cwork
        name, value = arg[:2], arg[2:]
        attached = bool(value)
    opt = by_name.get(name)
    if opt is None:
        return None
    if opt["flag"]:
        return None if attached else (opt["dest"], True)
    if not attached:
        value = next(rest, None)
        if value is None:
            return None
    return opt["dest"], value
