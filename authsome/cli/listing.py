import json

import click


@click.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(ctx, as_json):
    """List connections: provider, type, expiry, store and state."""
    from authsome.services.listing import render, rows

    table = rows(ctx)
    if as_json:
        ctx.io.emit(json.dumps(table, indent=2))
    elif table:
        ctx.io.emit(render(table))
    else:
        ctx.io.say("No connections yet. Log in with: authsome login NAME")
