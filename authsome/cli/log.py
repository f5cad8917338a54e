from __future__ import annotations

import click

from authsome.cli.complete import connected_refs

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@click.argument("name", required=False, shell_complete=connected_refs)
@click.option(
    "-n", "lines", type=click.IntRange(min=0), default=20, metavar="N", help="Lines to show (20)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the log's JSON lines as they are.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.pass_obj
def log(ctx: Context, name, lines, as_json, follow):
    """Show the audit log of credentials handed out.

    Newest last; NAME or NAME:CONNECTION shows one provider's or connection's lines.

    \b
    Examples:
      authsome log
      authsome log github -n 50
      authsome log -f        # follow until Ctrl-C
    """
    from authsome.errors import ExitCode
    from authsome.services import log as audit_log

    def show(text, doc):
        ctx.io.emit(text if as_json else audit_log.render(doc))

    shown, offset = audit_log.last(ctx, name, lines)
    if name and not shown:  # a typo shows nothing at all: say so (a removed provider's lines stay)
        audit_log.check_known(ctx, name)
    for text, doc in shown:
        show(text, doc)
    if not follow:
        return 0
    try:
        audit_log.follow(ctx, name, offset, show)
    except KeyboardInterrupt:
        return ExitCode.CANCELLED  # the way to stop it: no message
