"""Hooks, completion scripts and `authsome run`: the shell-facing services."""

from __future__ import annotations

import os
import sys

from authsome import shells
from authsome.util.resources import data_dir

PLACEHOLDER = "@AUTHSOME@"


def self_command(dialect) -> str:
    """The running authsome as shell words: its absolute path, quoted for `dialect`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "authsome" and os.path.isfile(argv0):
        return dialect.quote(os.path.abspath(argv0))
    return f"{dialect.quote(sys.executable)} -m authsome"


def hook_script(shell: str) -> str:
    dialect = shells.get(shell)
    text = (data_dir("shell") / dialect.HOOK_FILE).read_text(encoding="utf-8")
    return text.replace(PLACEHOLDER, self_command(dialect))


def completion_script(shell: str) -> str:
    name = shells.get(shell).COMPLETION_FILE
    return (data_dir("completions") / name).read_text(encoding="utf-8")


def run_command(
    ctx, names: list[str], command: list[str], proxy: bool = False, sandbox=None
) -> int | None:
    """Replace this process with `command`, its environment holding fresh credentials.

    Only the credentials of `names`: the rest of the user's environment is passed on without
    what unlocks authsome or holds other credentials (authsome.services.childenv). With
    `proxy`, the command runs behind `run --proxy`'s proxy instead and its status is returned;
    with `sandbox` too (services.sandboxrun.Sandbox), in a sandbox.
    """
    if sandbox is not None and not proxy:
        from authsome.errors import UsageError

        raise UsageError("--sandbox needs --proxy", "add --proxy")
    if proxy:
        from authsome.services.proxyrun import run_proxied  # the only way to authsome.proxy

        return run_proxied(ctx, names, command, sandbox)
    from authsome.services.childenv import not_runnable, scrub
    from authsome.services.env import audit_export, collect

    export = collect(ctx, names)
    environ = {**scrub(ctx.environ, ctx.registry), **export.values}
    audit_export(ctx, "run", export, argv0=command[0])  # this pid becomes the child's
    try:
        os.execvpe(command[0], command, environ)  # noqa: S606 - argv, no shell
    except (FileNotFoundError, PermissionError) as e:
        raise not_runnable(command, e) from None
