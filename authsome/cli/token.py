import click


@click.command()
@click.argument("name")
@click.option("--connection", "-c", help="Connection name (or NAME:C).")
@click.pass_obj
def token(ctx, name, connection):
    """Print a fresh access token or API key, refreshing it first if needed."""
    from authsome.lifecycle import credential, fresh

    ctx.emit(credential(fresh(ctx, name, connection)))
