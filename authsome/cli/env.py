import click

from authsome import shells
from authsome.cli.complete import connected_refs
from authsome.services.env import FORMATS


@click.command()
@click.argument("names", nargs=-1, shell_complete=connected_refs)
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="shell", show_default=True)
@click.option("--unset", is_flag=True, help="Remove what an earlier `env` exported.")
@click.option("--strict", is_flag=True, help="All or nothing: export nothing if any name fails.")
@click.pass_obj
def env(ctx, names, shell, fmt, unset, strict):
    """Print code exporting fresh credentials: eval "$(authsome env github)"."""
    from authsome.main import exit_code_for
    from authsome.services.env import render

    # What it can: each name it skips gets a line on stderr, the first sets the exit status.
    text, error = render(ctx, list(names), shell, fmt, unset, strict)
    ctx.emit(text)
    return exit_code_for(error) if error else 0
