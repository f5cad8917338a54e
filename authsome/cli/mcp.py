from __future__ import annotations

import click

from authsome.cli import options
from authsome.cli.complete import connected_refs, provider_names
from authsome.cli.declared import parameters

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

CLIENT_NAMES = ("claude", "cursor", "vscode", "codex", "goose")  # services.mcpclients.CLIENTS


@click.command()
@click.argument("name", shell_complete=provider_names)
@click.option("--client", required=True, type=click.Choice(CLIENT_NAMES), help="The MCP client.")
@click.option("--write", is_flag=True, help="Add it to the client's config file.")
@click.option("--as", "key", help="The server's name in the client (default: NAME less -mcp).")
@click.option("--file", type=click.Path(dir_okay=False), help="Another config file to write.")
@click.option("--force", is_flag=True, help="Replace an entry of that name (JSON files).")
@click.pass_obj
def config(ctx: Context, name, client, write, key, file, force):
    """Print (or --write) the entry that runs `authsome mcp NAME` in an MCP client's config.

    \b
    Files: claude .mcp.json, cursor ~/.cursor/mcp.json, vscode .vscode/mcp.json,
    codex ~/.codex/config.toml, goose ~/.config/goose/config.yaml.

    \b
    Examples:
      authsome mcp config linear-mcp --client claude
      authsome mcp config linear-mcp --client codex --write
    """
    from authsome.services.mcpclients import configure

    configure(ctx, name, client, write=write, key=key, file=file, force=force)


class _BridgeOrConfig(click.Command):
    """`mcp NAME|URL` runs the bridge; `mcp config ...` is the command above (so no provider
    may be named `config`)."""

    def parse_args(self, ctx, args):
        if args[:1] == ["config"]:
            # A sibling of this context, so that usage lines read `authsome mcp config`.
            ctx.meta["authsome.mcp.config"] = config.make_context(
                f"{ctx.info_name} config",
                args[1:],
                parent=ctx.parent,
                resilient_parsing=ctx.resilient_parsing,  # Tab: no error for what is missing
            )
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        sub = ctx.meta.get("authsome.mcp.config")
        if sub is None:
            return super().invoke(ctx)
        with sub:
            return config.invoke(sub)


@click.command(cls=_BridgeOrConfig)
@parameters(options.COMMANDS["mcp"], connected_refs)
@click.pass_obj
def mcp(ctx: Context, **given):
    """Bridge a remote MCP server to stdio, with fresh tokens.

    NAME's fresh token goes on every request to its server, the provider's oauth.resource
    (Streamable HTTP). NAME may be the server's URL: a provider is made for it on first use.
    stdout carries only JSON-RPC; messages go to stderr. It never prompts on stdio.

    \b
    Examples:
      authsome login linear-mcp
      claude mcp add linear -- authsome mcp linear-mcp
      authsome mcp config linear-mcp --client cursor --write   # see: authsome mcp config -h
    """
    from authsome.cli.fastpath import run_mcp  # click-free too (its start-up)

    return run_mcp(ctx, **given)
