"""Hooks, completion scripts and `authsome run`: the shell-facing services."""

from __future__ import annotations

import os
import sys

from authsome import shells
from authsome.util.resources import data_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

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
    ctx: Context,
    names: list[str],
    command: list[str],
    proxy: bool = False,
    env_files=(),
    masking: bool = True,
    rules=None,
    sandbox=None,
) -> int | None:
    """Run `command`, its environment holding fresh credentials; its status.

    Only the credentials of `names`: the rest of the user's environment is passed on without
    what unlocks authsome or holds other credentials (authsome.services.childenv). With
    `env_files`, or references in the environment, their variables too (services/envfiles.py).
    With `proxy`, the command runs behind `run --proxy`'s proxy instead; `rules`
    (services/requestrules.py's RuleOptions) limits which requests it signs, and with
    `sandbox` (services.sandboxrun.Sandbox) it runs in a sandbox. With `masking`,
    the credentials are concealed in its output (services/childrun.py); without, this process
    becomes the command.
    """
    _proxy_options(proxy, rules, sandbox)
    if proxy:
        from authsome.services.proxyrun import run_proxied  # the only way to authsome.proxy

        return run_proxied(ctx, names, command, env_files, masking, rules, sandbox)
    from authsome.services.childenv import has_references, scrub
    from authsome.services.childrun import exec_or_relay
    from authsome.services.env import audit_export, collect

    sources = None
    if env_files or has_references(ctx.environ):  # else nothing new is imported
        from authsome.services.envfiles import Sources

        sources = Sources(ctx.environ, env_files)  # read and checked before any credential
    if names or not env_files:
        export = collect(ctx, names)
    else:
        from authsome.services.envbook import Export

        export = Export()  # the files say what the command gets
    environ = {**scrub(ctx.environ, ctx.registry), **export.values}
    secrets = list(export.values.values())
    if sources is not None:
        resolved, given = _resolved(ctx, sources, export, names, command[0])
        environ.update(resolved)
        secrets += given
    audit_export(ctx, "run", export, argv0=command[0])  # the child's name, or this pid's
    return exec_or_relay(command, environ, secrets if masking else ())


def _proxy_options(proxy: bool, rules, sandbox) -> None:
    """The sandbox and the request rules are the proxy's: without it, a usage error."""
    if proxy:
        return
    from authsome.errors import UsageError

    if sandbox is not None:
        raise UsageError("--sandbox needs --proxy", "add --proxy")
    if rules is not None and rules.given:
        raise UsageError("--allow, --policy and --read-only are rules for the proxy", "add --proxy")


def _resolved(ctx, sources, export, names, argv0: str) -> tuple[dict, list[str]]:
    """The references' and files' variables that the names' exports leave to them; and the
    values references gave, which the command's output conceals."""
    from authsome.services import envfiles
    from authsome.services.references import Resolver
    from authsome.storage.connections import parse_ref

    sources.inherited = [i for i in sources.inherited if i[1] not in export.values]
    resolver = Resolver(ctx)
    inherited, from_files = sources.resolve(resolver)
    envfiles.check_agree(export.values, from_files, names)
    done = {parse_ref(r) for r in export.refs}
    envfiles.audit(ctx, "run", resolver, done, argv0=argv0)
    return {**inherited, **from_files}, resolver.secrets
