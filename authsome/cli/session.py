import click

from authsome import shells


@click.command()
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.option(
    "--ttl", default="8h", show_default=True, help="How long the session lasts (at most 7d)."
)
@click.pass_obj
def unlock(ctx, shell: str | None, ttl: str) -> None:
    """Unlock the vault for this shell: eval "$(authsome unlock)"."""
    from authsome.unlock import unlock_vault

    dialect = shells.get(shell or shells.detect(ctx.environ))
    session = unlock_vault(ctx, ttl)
    if session is not None:
        ctx.emit(dialect.export("AUTHSOME_SESSION", session.token))


@click.command()
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.pass_obj
def lock(ctx, shell: str | None) -> None:
    """End this shell's unlocked session: eval "$(authsome lock)"."""
    from authsome.unlock import lock_vault

    dialect = shells.get(shell or shells.detect(ctx.environ))
    lock_vault(ctx)
    ctx.emit(dialect.unset("AUTHSOME_SESSION"))
