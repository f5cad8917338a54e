import click

from authsome import shells
from authsome.cli.complete import connected_refs

FORMATS = ("shell", "dotenv", "json")


@click.command()
@click.argument("names", nargs=-1, shell_complete=connected_refs)
@click.option("--shell", "shell", type=click.Choice(shells.DIALECTS), help="Shell dialect.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="shell", show_default=True)
@click.option("--unset", is_flag=True, help="Remove what an earlier `env` exported.")
@click.pass_obj
def env(ctx, names, shell, fmt, unset):
    """Print code exporting fresh credentials: eval "$(authsome env github)"."""
    from authsome import envexport

    dialect = shells.get(shell or shells.detect(ctx.environ))
    previous = shells.safe_names(ctx.environ.get(envexport.EXPORTED, ""))
    if unset:
        bookkeeping = [b for b in envexport.BOOKKEEPING if b in ctx.environ]
        ctx.emit(shells.script(dialect, {}, [*previous, *bookkeeping]))
        return
    export = envexport.collect(ctx, list(names))
    if fmt == "json":
        from authsome.shells import jsonfmt

        ctx.emit(jsonfmt.render(export))
    elif fmt == "dotenv":
        from authsome.shells import dotenv

        text = shells.script(dotenv, export.values)
        for name in dotenv.unsafe_for_docker(export.values):
            ctx.say(
                f"authsome: warning: {name} holds characters that docker --env-file reads "
                "literally (quotes, newlines) or python-dotenv expands (${...})."
            )
        ctx.emit(text)
    else:
        stale = [n for n in previous if n not in export.values]
        new = export.bookkeeping()
        cleared = [b for b in envexport.BOOKKEEPING if b in ctx.environ and b not in new]
        ctx.emit(shells.script(dialect, {**export.values, **new}, stale + cleared))
