"""`token` and `env` without click: they run in shell start-up and before agents' API calls.

Only the plain forms are handled here; anything else (help, unknown options, bad values)
returns None and the click CLI takes over, so behaviour and messages stay the same.
"""

from __future__ import annotations

ENV_FLAGS = ("--unset", "--strict")  # keep in step with authsome.cli.env (a test compares)


def _parse(args: list[str], valued: dict[str, tuple], flags: tuple[str, ...]):
    """(positionals, options) for simple argv, or None when click should handle it."""
    positionals, options = [], {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in valued:
            if not eq:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 1
            allowed = valued[name]
            if allowed and value not in allowed:
                return None
            options[name.lstrip("-")] = value
        elif arg in flags:
            options[arg.lstrip("-")] = True
        elif arg.startswith("-"):
            return None
        else:
            positionals.append(arg)
        i += 1
    return positionals, options


def run(args: list[str]) -> int | None:
    if not args or args[0] not in ("token", "env"):
        return None
    if args[0] == "token":
        parsed = _parse(args[1:], {"--connection": (), "-c": ()}, ())
        if parsed is None or len(parsed[0]) != 1:
            return None
        from authsome.factory import Context
        from authsome.services.refresh import credential, fresh

        ctx = Context()
        (name,), opts = parsed
        ctx.emit(credential(fresh(ctx, name, opts.get("connection") or opts.get("c"))))
        return 0
    from authsome.services.env import FORMATS, render
    from authsome.shells import DIALECTS

    parsed = _parse(args[1:], {"--shell": DIALECTS, "--format": FORMATS}, ENV_FLAGS)
    if parsed is None:
        return None
    from authsome.factory import Context
    from authsome.main import exit_code_for

    names, opts = parsed
    ctx = Context()
    text, error = render(
        ctx,
        names,
        opts.get("shell"),
        opts.get("format", "shell"),
        bool(opts.get("unset")),
        bool(opts.get("strict")),
    )
    ctx.emit(text)
    return exit_code_for(error) if error else 0
