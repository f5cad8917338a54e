from __future__ import annotations

import click

from authsome import shells
from authsome.services.session import DEFAULT_TTL

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.option(
    "--ttl", default=DEFAULT_TTL, show_default=True, help="How long the session lasts (at most 7d)."
)
@click.pass_obj
def unlock(ctx: Context, shell: str | None, ttl: str) -> None:
    """Unlock the encrypted file for every shell of this login.

    \b
    Examples:
      eval "$(authsome unlock)"
      eval "$(authsome unlock --ttl 1h)"
      authsome unlock | source        # fish
    """
    from authsome.services.session import ENV_SESSION, unlock_vault

    dialect = shells.get(shell or shells.detect(ctx.environ))
    token = unlock_vault(ctx, ttl, dialect)
    if token is not None:
        ctx.io.emit(dialect.export(ENV_SESSION, token))
    elif ENV_SESSION in ctx.environ:
        ctx.io.emit(dialect.unset(ENV_SESSION))  # this shell's own unlock was replaced


@click.command()
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.pass_obj
def lock(ctx: Context, shell: str | None) -> None:
    """Lock the encrypted file again in every shell.

    \b
    Examples:
      authsome lock
    """
    from authsome.services.session import ENV_SESSION, lock_vault

    dialect = shells.get(shell or shells.detect(ctx.environ))
    lock_vault(ctx)
    # Typed at a prompt, without eval, shell code on the terminal is noise: the line on stderr
    # says it all (this shell's AUTHSOME_SESSION, if any, opens nothing any more).
    if not ctx.io.stdout_is_tty():
        ctx.io.emit(dialect.unset(ENV_SESSION))
