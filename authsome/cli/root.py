"""The command line: a click group whose commands are imported only when used."""

from __future__ import annotations

import importlib
import re

import click

from authsome import __version__
from authsome.cli import complete  # noqa: F401 - registers the bash completion script

# name -> "module:function"; modules are imported only when their command runs.
COMMANDS = {
    "completion": "authsome.cli.shellcmds:completion",
    "doctor": "authsome.cli.doctor:doctor",
    "env": "authsome.cli.env:env",
    "git-credential": "authsome.cli.gitcred:git_credential",
    "hook": "authsome.cli.shellcmds:hook",
    "inject": "authsome.cli.inject:inject",
    "inspect": "authsome.cli.providers:inspect",
    "kube-credential": "authsome.cli.kubecred:kube_credential",
    "list": "authsome.cli.listing:list_",
    "lock": "authsome.cli.session:lock",
    "log": "authsome.cli.log:log",
    "login": "authsome.cli.login:login",
    "logout": "authsome.cli.login:logout",
    "mcp": "authsome.cli.mcp:mcp",
    "providers": "authsome.cli.providers:providers",
    "register": "authsome.cli.providers:register",
    "run": "authsome.cli.shellcmds:run",
    "scan": "authsome.cli.scan:scan",
    "setup-git": "authsome.cli.gitcred:setup_git",
    "setup-kube": "authsome.cli.kubecred:setup_kube",
    "setup-shell": "authsome.cli.shellcmds:setup_shell",
    "token": "authsome.cli.token:token",
    "unlock": "authsome.cli.session:unlock",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context):
        return sorted(COMMANDS)

    def resolve_command(self, ctx: click.Context, args):
        name = args[0] if args else ""
        if name in COMMANDS or name.startswith("-") or ctx.resilient_parsing:
            return super().resolve_command(ctx, args)
        import difflib

        from authsome.errors import UsageError

        # Only a word that could be a command is repeated: it may be a secret pasted here.
        shown = f" {name!r}" if re.fullmatch(r"[a-z][a-z-]{0,15}", name) else ""
        close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.6)
        fix = f"did you mean {close[0]}?" if close and shown else "see: authsome --help"
        raise UsageError(f"no such command{shown}", fix)

    def get_command(self, ctx: click.Context, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "-V", "--version", prog_name="authsome", message="%(prog)s %(version)s"
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Log in once; get fresh credentials in every shell, script and agent."""
    if ctx.obj is None:
        from authsome.factory import Context

        ctx.obj = Context()
