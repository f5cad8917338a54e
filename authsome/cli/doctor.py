from __future__ import annotations

import json

import click

from authsome.errors import ChecksFailed

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--fix", is_flag=True, help="Tighten loose file modes in the home.")
@click.pass_obj
def doctor(ctx: Context, as_json: bool, fix: bool) -> None:
    """Show the store in use and why, and check the setup.

    Checks the home and its file modes, the keychain, the encrypted file, the vault store
    and the helpers' configs.

    \b
    Examples:
      authsome doctor
      authsome doctor --fix        # tighten loose file modes
      authsome doctor --json | jq .store
    """
    from authsome.services.doctor import diagnose, render

    report = diagnose(ctx, fix=fix)
    ctx.io.emit(json.dumps(report, indent=2) if as_json else render(report))
    if not report["ok"]:
        raise ChecksFailed(
            f"doctor found {len(report['problems'])} problem(s)", "see the report above"
        )
