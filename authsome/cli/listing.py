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
        ctx.emit(json.dumps(table, indent=2))
    elif table:
        ctx.emit(render(table))
    else:
        ctx.say("No connections yet. Log in with: authsome login NAME")
