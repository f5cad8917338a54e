import click

from authsome.cli import options
from authsome.cli.declared import parameters


@click.command(name="list")
@parameters(options.COMMANDS["list"], None)
@click.pass_obj
def list_(ctx, **given):
    """List connections: provider, type, expiry, store, state.

    \b
    Examples:
      authsome list
      authsome list --json
    """
    from authsome.cli.fastpath import run_list

    return run_list(ctx, **given)
