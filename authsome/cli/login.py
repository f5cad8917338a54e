import click

from authsome.cli.complete import connected_refs, provider_names
from authsome.oauth import FLOWS


@click.command()
@click.argument("name", shell_complete=provider_names)
@click.option("--flow", type=click.Choice(FLOWS), help="Login flow (default: the provider's).")
@click.option("--connection", "-c", help="Connection name (default: 'default'; or NAME:C).")
@click.option("--scopes", help="Comma-separated scopes, replacing the provider's defaults.")
@click.option("--force", is_flag=True, help="Log in again over a connected connection.")
@click.option("--client-id", help="OAuth client ID (default: NAME_CLIENT_ID or the provider's).")
@click.option("--port", type=click.IntRange(1024, 65535), help="Loopback port for pkce.")
@click.option("--no-browser", is_flag=True, help="Print the URL; do not open a browser.")
@click.pass_obj
def login(ctx, name, flow, connection, scopes, force, client_id, port, no_browser):
    """Log in to a provider and store its credentials."""
    from authsome.services.login import login as run

    scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else None
    run(
        ctx,
        name,
        flow=flow,
        connection=connection,
        scopes=scope_list,
        force=force,
        client_id=client_id,
        port=port,
        open_browser=not no_browser,
    )


@click.command()
@click.argument("name", shell_complete=connected_refs)
@click.option("--connection", "-c", help="Connection name (or NAME:C).")
@click.pass_obj
def logout(ctx, name, connection):
    """Revoke a connection's tokens and remove them."""
    from authsome.services.login import logout as run

    run(ctx, name, connection)
