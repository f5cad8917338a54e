"""The man page: generated from the click commands and the README, and clean for groff."""

import subprocess
from pathlib import Path

from clitools import check_generated
from realparts import require

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "packaging" / "man" / "authsome.1"


def test_checked_in_page_matches_the_generator():
    out = check_generated("gen-manpage")
    assert out.returncode == 0, out.stderr


def test_page_renders_without_warnings_and_lists_every_command():
    from authsome.cli.root import COMMANDS

    out = subprocess.run(
        [require("groff"), "-man", "-Tutf8", "-ww", "-P-cbou", str(PAGE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
    for name in COMMANDS:
        assert f"authsome {name} [OPTIONS]" in out.stdout
    # The README's tables made it in, both ends of each.
    assert "AUTHSOME_BRIDGE_TIMEOUT" in out.stdout and "AUTHSOME_HOME" in out.stdout
    assert "130    Cancelled (Ctrl-C)." in out.stdout


def test_page_names_every_folder_authsome_writes():
    text = PAGE.read_text()
    for folder in ("providers/", "cache/discovery/", "locks/", "journal/", "sessions/"):
        assert f"\\fI~/.authsome/{folder}\\fR" in text
    assert "\\fI$XDG_RUNTIME_DIR/authsome/\\fR" in text


def test_run_shows_where_the_command_goes():
    from clitools import run

    out = run(["run", "--help"], None)
    assert out.stdout.startswith("Usage: authsome run [OPTIONS] [NAMES]... -- COMMAND [ARGS]...")
    assert "\\fBauthsome run\\fR [OPTIONS] [NAMES]... \\-\\- COMMAND [ARGS]..." in PAGE.read_text()
