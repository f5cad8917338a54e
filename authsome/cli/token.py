import click

from authsome.cli.complete import connected_refs


@click.command()
@click.argument("name", shell_complete=connected_refs)
@click.option("--connection", "-c", help="Connection name (or NAME:C).")
@click.pass_obj
def token(ctx, name, connection):
    """Print a fresh access token or API key, refreshing it first if needed."""
    from authsome.services.refresh import credential, fresh

    ctx.emit(credential(fresh(ctx, name, connection)))
