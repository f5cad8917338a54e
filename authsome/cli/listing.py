from __future__ import annotations

import click

from authsome.cli import options
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command(name="list")
@parameters(options.COMMANDS["list"], None)
@click.pass_obj
def list_(ctx: Context, **given):
    """List connections: provider, type, expiry, store, state.

    \b
    Examples:
      authsome list
      authsome list --json
    """
    from authsome.cli.fastpath import run_list

    return run_list(ctx, **given)
