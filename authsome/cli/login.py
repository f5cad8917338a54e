from __future__ import annotations

import click

from authsome.cli import options
from authsome.cli.complete import connected_refs, provider_names
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@parameters(options.COMMANDS["login"], provider_names)
@click.pass_obj
def login(ctx: Context, name, flow, connection, scopes, force, client_id, port, no_browser):
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
@parameters(options.COMMANDS["logout"], connected_refs)
@click.pass_obj
def logout(ctx: Context, name, connection):
    """Revoke a connection's tokens and remove them."""
    from authsome.services.login import logout as run

    run(ctx, name, connection)
