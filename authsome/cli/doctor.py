import json

import click

from authsome.errors import ChecksFailed


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--fix", is_flag=True, help="Tighten loose file modes in the home.")
@click.pass_obj
def doctor(ctx, as_json: bool, fix: bool) -> None:
    """Show which store authsome uses and why, and check the home and vault."""
    from authsome.services.doctor import diagnose, render

    report = diagnose(ctx, fix=fix)
    ctx.io.emit(json.dumps(report, indent=2) if as_json else render(report))
    if not report["ok"]:
        raise ChecksFailed(
            f"doctor found {len(report['problems'])} problem(s)", "see the report above"
        )
