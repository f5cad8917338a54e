import click

from authsome.cli import options
from authsome.cli.complete import connected_refs
from authsome.cli.declared import parameters


@click.command()
@parameters(options.COMMANDS["env"], connected_refs)
@click.pass_obj
def env(ctx, **given):
    """Print shell code that exports fresh credentials.

    \b
    Examples:
      eval "$(authsome env github openai)"
      authsome env --format dotenv openai > .env.local
      authsome env --unset github
      eval "$(authsome env --env-file .env)"
    """
    from authsome.cli.fastpath import run_env

    return run_env(ctx, **given)
