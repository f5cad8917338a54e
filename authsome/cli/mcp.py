from __future__ import annotations

import click

from authsome.cli.complete import connected_refs

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@click.argument("name", shell_complete=connected_refs)
@click.pass_obj
def mcp(ctx: Context, name):
    """Bridge a remote MCP server to stdio, with fresh tokens.

    NAME's fresh token goes on every request to its server, the provider's oauth.resource
    (Streamable HTTP). stdout carries only
    JSON-RPC; messages go to stderr. It never prompts: log in first.

    \b
    Examples:
      authsome login linear-mcp --flow device_code
      {"command": "authsome", "args": ["mcp", "linear-mcp"]}   # an MCP client's config
    """
    import gc
    import sys

    gc.enable()  # main() turns it off for the short commands; a bridge lives as long as a session

    from authsome.services.mcp import serve

    serve(ctx, name, sys.stdin, sys.stdout, sys.stderr)
    return 0
