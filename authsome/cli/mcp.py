from __future__ import annotations

import click

from authsome.cli import options
from authsome.cli.complete import connected_refs
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@parameters(options.COMMANDS["mcp"], connected_refs)
@click.pass_obj
def mcp(ctx: Context, **given):
    """Bridge a remote MCP server to stdio, with fresh tokens.

    NAME's fresh token goes on every request to its server, the provider's oauth.resource
    (Streamable HTTP). stdout carries only
    JSON-RPC; messages go to stderr. It never prompts: log in first.

    \b
    Examples:
      authsome login linear-mcp --flow device_code
      {"command": "authsome", "args": ["mcp", "linear-mcp"]}   # an MCP client's config
    """
    from authsome.cli.fastpath import run_mcp  # click-free too (its start-up)

    return run_mcp(ctx, **given)
