import click

from authsome import shells
from authsome.cli.complete import connected_refs
from authsome.envexport import FORMATS


@click.command()
@click.argument("names", nargs=-1, shell_complete=connected_refs)
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="shell", show_default=True)
@click.option("--unset", is_flag=True, help="Remove what an earlier `env` exported.")
@click.pass_obj
def env(ctx, names, shell, fmt, unset):
    """Print code exporting fresh credentials: eval "$(authsome env github)"."""
    from authsome.envexport import render

    ctx.emit(render(ctx, list(names), shell, fmt, unset))
