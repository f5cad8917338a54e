from __future__ import annotations

import click

from authsome.cli.complete import connected_refs

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command("git-credential")
@click.argument("operation", metavar="get|store|erase")
@click.option("--connection", "ref", metavar="NAME[:C]", help="Answer with this connection only.")
@click.pass_obj
def git_credential(ctx: Context, operation, ref):
    """Answer git's credential-helper protocol.

    git runs it; set it up with: authsome setup-git.

    \b
    Examples:
      authsome setup-git github
      git clone https://github.com/acme/private.git
    """
    from authsome.services.gitcred import answer, read_attributes

    # Any other operation is ignored, as git asks of helpers.
    ctx.io.emit(answer(ctx, operation, read_attributes(ctx.io.stdin), ref))


@click.command("setup-git")
@click.argument("refs", nargs=-1, metavar="[NAME[:C]]...", shell_complete=connected_refs)
@click.option("--unset", is_flag=True, help="Remove authsome as the helper for those hosts.")
@click.pass_obj
def setup_git(ctx: Context, refs, unset):
    """Make git ask authsome for these providers' hosts.

    The HTTPS hosts of the named providers (default: every connected one).

    \b
    Examples:
      authsome setup-git github
      authsome setup-git --unset github
    """
    from authsome.services.gitcred import setup_git as run

    for line in run(ctx, list(refs), unset):
        ctx.io.say(f"authsome: {line}.")
