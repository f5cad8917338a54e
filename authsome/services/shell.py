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
    ctx, names: list[str], command: list[str], proxy: bool = False, masking: bool = True
) -> int | None:
    """Run `command`, its environment holding fresh credentials; its status.

    Only the credentials of `names`: the rest of the user's environment is passed on without
    what unlocks authsome or holds other credentials (authsome.services.childenv). With
    `proxy`, the command runs behind `run --proxy`'s proxy instead. With `masking`, the
    credentials are concealed in its output (services/childrun.py); without, this process
    becomes the command.
    """
    if proxy:
        from authsome.services.proxyrun import run_proxied  # the only way to authsome.proxy

        return run_proxied(ctx, names, command, masking)
    from authsome.services.childenv import scrub
    from authsome.services.childrun import exec_or_relay
    from authsome.services.env import audit_export, collect

    export = collect(ctx, names)
    environ = {**scrub(ctx.environ, ctx.registry), **export.values}
    audit_export(ctx, "run", export, argv0=command[0])  # the child's name, or this pid's
    return exec_or_relay(command, environ, list(export.values.values()) if masking else ())
