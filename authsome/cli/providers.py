from __future__ import annotations

import json

import click

from authsome.cli import options
from authsome.cli.complete import provider_names
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def providers(ctx: Context, as_json):
    """List bundled and custom providers."""
    from authsome.services.providers import provider_rows, render_rows

    table = provider_rows(ctx)
    ctx.io.emit(json.dumps(table, indent=2) if as_json else render_rows(table))


@click.command()
@parameters(options.COMMANDS["inspect"], provider_names)
@click.pass_obj
def inspect(ctx: Context, name, as_json, refresh):
    """Show a provider's resolved definition.

    With endpoints discovered from its issuer, and where each field came from.

    \b
    Examples:
      authsome inspect github
      authsome inspect myidp --refresh --json
    """
    from authsome.services.providers import render_definition, resolved

    provider = resolved(ctx, name, refresh)
    text = json.dumps(provider.to_dict(), indent=2) if as_json else render_definition(provider)
    ctx.io.emit(text)


@click.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--issuer", help="Create a provider from this issuer's metadata (RFC 8414).")
@click.option("--resource", help="Create a provider for this MCP server (RFC 9728 metadata).")
@click.option("--name", help="The provider's name, with --issuer (or --resource).")
@click.option(
    "--force",
    is_flag=True,
    help="Replace an installed custom provider; claim a host a bundled provider owns.",
)
@click.pass_obj
def register(ctx: Context, file, issuer, resource, name, force):
    """Check a provider definition and install it.

    Or make one from an OpenID/OAuth issuer's metadata with --issuer, or for an MCP server
    (any OAuth-protected resource) from its URL with --resource.

    \b
    Examples:
      authsome register ./myidp.json
      authsome register --issuer https://id.example.com --name myidp
      authsome register --resource https://mcp.example.com/mcp
    """
    from authsome.services.providers import register as from_file
    from authsome.services.providers import register_issuer

    if resource:
        if file or issuer:
            raise click.UsageError("--resource takes no FILE and no --issuer")
        from authsome.services.mcpsetup import register_resource

        made = register_resource(ctx, resource, name, force)
        ctx.io.say(f"Log in with: authsome login {made}; then bridge it: authsome mcp {made}")
    elif issuer:
        if file or not name:
            raise click.UsageError("--issuer takes --name and no FILE")
        register_issuer(ctx, name, issuer, force)
    elif file:
        from_file(ctx, file, force)
    else:
        raise click.UsageError(
            "give a provider FILE, --issuer URL --name NAME, or --resource URL [--name NAME]"
        )
