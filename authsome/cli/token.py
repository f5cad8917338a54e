from __future__ import annotations

import click

from authsome.cli import options
from authsome.cli.complete import connected_refs
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@parameters(options.COMMANDS["token"], connected_refs)
@click.pass_obj
def token(ctx: Context, **given):
    """Print a fresh access token or API key.

    Refreshed first when it is due; NAME:CONNECTION picks a connection.

    \b
    Examples:
      authsome token github
      curl -H "Authorization: Bearer $(authsome token github)" https://api.github.com/user
      authsome token github:work
    """
    from authsome.cli.fastpath import run_token

    return run_token(ctx, **given)
