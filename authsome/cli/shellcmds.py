from __future__ import annotations

import click

from authsome import shells
from authsome.cli import options
from authsome.cli.complete import connected_refs
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@click.argument("shell", type=click.Choice(shells.supporting("HOOK_FILE")))
@click.pass_obj
def hook(ctx: Context, shell):
    """Print the prompt hook for a shell, or direnv's library.

    \b
    Examples:
      eval "$(authsome hook bash)"      # in ~/.bashrc
      authsome hook fish | source       # in ~/.config/fish/config.fish
    """
    from authsome.services.shell import hook_script

    ctx.io.emit(hook_script(shell))


@click.command()
@click.argument("shell", type=click.Choice(shells.supporting("COMPLETION_FILE")))
@click.pass_obj
def completion(ctx: Context, shell):
    """Print the completion script for a shell."""
    from authsome.services.shell import completion_script

    ctx.io.emit(completion_script(shell))


@click.command("setup-shell")
@click.argument("names", nargs=-1, metavar="[NAME[:C]]...", shell_complete=connected_refs)
@click.option(
    "--shell",
    type=click.Choice(shells.supporting("STARTUP")),
    help="The shell whose start-up file to write (default: the one this runs in).",
)
@click.option("--print", "show", is_flag=True, help="Print the lines; write nothing.")
@click.option("--unset", is_flag=True, help="Remove the lines.")
@click.pass_obj
def setup_shell(ctx: Context, names, shell, show, unset):
    """Write authsome's lines into your shell's start-up file.

    Completion, env NAMES and the prompt hook, with authsome's absolute path, so they work in
    login shells too.

    \b
    Examples:
      authsome setup-shell github openai
      authsome setup-shell --print
      authsome setup-shell --unset
    """
    from authsome.services import startup

    dialect = startup.dialect_for(ctx, shell)
    if show:
        ctx.io.emit("\n".join(startup.startup_lines(dialect, list(names))))
        return
    for line in startup.setup_shell(ctx, dialect, list(names), unset):
        ctx.io.say(f"authsome: {line}.")


class RunCommand(click.Command):
    """Splits its arguments at the first '--': names before it, the command after."""

    def collect_usage_pieces(self, ctx: click.Context):
        return [*super().collect_usage_pieces(ctx), "-- COMMAND [ARGS]..."]

    def parse_args(self, ctx: click.Context, args):
        if "--" in args:
            i = args.index("--")
            ctx.meta["authsome.command"] = args[i + 1 :]
            args = args[:i]
        return super().parse_args(ctx, args)


@click.command(cls=RunCommand)
@parameters(options.COMMANDS["run"], connected_refs)
@click.pass_context
def run(click_ctx, names, proxy, env_files, no_masking, allow, policy, read_only, **sandboxing):
    """Run a command with fresh credentials.

    The credentials are concealed in its output (<concealed by authsome>); --no-masking
    shows it as it is. --proxy gives the command placeholders, and a local proxy adds the
    credential to its requests on their way out. With --allow, --policy or --read-only, it
    adds it only to requests a rule allows, and answers the others 403. --sandbox also keeps
    the command from everything else that would open a credential: authsome, the keyrings,
    the network but the proxy. --env-file reads a dotenv file whose values may be references
    (authsome://PROVIDER[:CONNECTION]/FIELD); references in the environment are resolved too.

    \b
    Examples:
      authsome run github -- gh repo list
      authsome run --proxy github openai -- my-agent
      authsome run --proxy github --allow 'GET api.github.com/repos/acme/*' -- my-agent
      authsome run --proxy --sandbox --hide ~/.aws github -- my-agent
      authsome run --env-file .env -- npm start
    """
    from authsome.services.requestrules import RuleOptions
    from authsome.services.shell import run_command

    command = click_ctx.meta.get("authsome.command")
    if not command:
        raise click.UsageError("no command given; put it after '--'", click_ctx)
    rules = RuleOptions(tuple(allow), tuple(policy), read_only)
    sandbox = _sandbox(click_ctx, **sandboxing)
    return run_command(
        click_ctx.obj,
        list(names),
        command,
        proxy=proxy,
        env_files=env_files,
        masking=not no_masking,
        rules=rules,
        sandbox=sandbox,
    )


def _sandbox(click_ctx, sandbox, hide, ssh_agent):
    """The sandbox asked for, if any; --hide and --ssh-agent mean nothing without it."""
    if not sandbox:
        if hide or ssh_agent:
            raise click.UsageError("--hide and --ssh-agent need --sandbox", click_ctx)
        return None
    from authsome.services.sandboxrun import Sandbox

    return Sandbox(hide=hide, ssh_agent=ssh_agent)
