"""The command line: a click group whose commands are imported only when used."""

from __future__ import annotations

import importlib

import click

from authsome import __version__
from authsome.cli import complete  # noqa: F401 - registers the bash completion script

# name -> "module:function"; modules are imported only when their command runs.
COMMANDS = {
    "completion": "authsome.cli.shellcmds:completion",
    "doctor": "authsome.cli.doctor:doctor",
    "env": "authsome.cli.env:env",
    "hook": "authsome.cli.shellcmds:hook",
    "inspect": "authsome.cli.providers:inspect",
    "list": "authsome.cli.listing:list_",
    "lock": "authsome.cli.session:lock",
    "login": "authsome.cli.login:login",
    "logout": "authsome.cli.login:logout",
    "providers": "authsome.cli.providers:providers",
    "register": "authsome.cli.providers:register",
    "run": "authsome.cli.shellcmds:run",
    "token": "authsome.cli.token:token",
    "unlock": "authsome.cli.session:unlock",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
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
        from authsome.context import Context

        ctx.obj = Context()
