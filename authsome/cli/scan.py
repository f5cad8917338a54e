import click

from authsome.errors import ChecksFailed


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--import", "import_", is_flag=True, help="Store what was found as connections.")
@click.option(
    "--connection", "-c", default="default", show_default=True,
    help="The connection to compare with, and to import into.",
)  # fmt: skip
@click.option(
    "--rewrite", is_flag=True,
    help="With --import: replace each imported value in its file with its reference.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="With --import: replace a stored key that differs.")
@click.pass_obj
def scan(ctx, paths, as_json, import_, connection, rewrite, force):
    """Find plaintext keys in .env files and the environment.

    Looks in each PATH's .env, .env.local, .env.development[.local], .env.test[.local],
    .env.production[.local], .env.prod[.local] and other .env.* files (default: here), and in
    the environment. Shows where, never a value. Exit 11 while a plaintext credential is
    left where it was found.

    \b
    Examples:
      authsome scan
      authsome scan --import --rewrite      # store them; the files get references
      authsome run --env-file .env -- npm start
    """
    import json

    from authsome.errors import UsageError
    from authsome.services import scan as scanning
    from authsome.services import scanimport

    if (rewrite or force) and not import_:
        raise UsageError("--rewrite and --force go with --import", "add --import")
    if not import_:
        ctx.io.asks = False  # never a passphrase prompt: it may run in a hook, unattended
    found = scanning.scan(ctx, list(paths), connection, strict=import_)
    if import_:
        scanimport.import_found(ctx, found, connection, force)
    if rewrite:
        for line in scanimport.rewrite(ctx, found, connection):
            ctx.io.say(f"authsome: rewrote {line}.")
        done = [f for f in found if f.why.endswith("rewritten")]
        if done:
            f = done[0]
            ref = f.provider if connection == "default" else f"{f.provider}:{connection}"
            ctx.io.say(scanimport.HISTORY.format(ref=ref, path=done[0].path))
    rows = [{**f.row(), "note": f.why} for f in found]
    ctx.io.emit(json.dumps(rows, indent=2) if as_json else scanning.render(found) if found else "")
    left = scanimport.left(found)
    if left:
        raise ChecksFailed(f"{len(left)} plaintext credential(s) found", _fix(import_, rewrite))


def _fix(import_: bool, rewrite: bool) -> str:
    if not import_:
        return "store them and put references in the files: authsome scan --import --rewrite"
    if not rewrite:
        return "put references in the files: authsome scan --import --rewrite"
    return "see each one's note; unset those in the environment"
