import json

import click

from authsome.cli.complete import provider_names


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def providers(ctx, as_json):
    """List bundled and custom providers."""
    from authsome.catalog import provider_rows, render_rows

    table = provider_rows(ctx)
    ctx.emit(json.dumps(table, indent=2) if as_json else render_rows(table))


@click.command()
@click.argument("name", shell_complete=provider_names)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def inspect(ctx, name, as_json):
    """Show a provider's resolved definition."""
    from authsome.catalog import render_definition

    provider = ctx.registry.get(name)
    ctx.emit(json.dumps(provider.to_dict(), indent=2) if as_json else render_definition(provider))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace an installed custom provider.")
@click.pass_obj
def register(ctx, file, force):
    """Validate a provider definition and install it."""
    from authsome.catalog import register as run

    run(ctx, file, force)
