"""The arguments and options of `token`, `env` and `list`, declared once.

Two readers: cli/fastpath.py parses argv with them, and cli/token.py, cli/env.py and
cli/listing.py hand them to click (cli/declared.py), so the two cannot disagree on what a
command accepts. tests/test_fastpath.py checks that they give the same answers. Plain data and
no click: the fast path reads this module on every call.
"""

from authsome.formats import NAMES as FORMATS
from authsome.formats import SHELL
from authsome.shells import DIALECTS


def option(*names: str, dest: str, flag=False, choices=(), default=None, **shown) -> dict:
    """One option: its names, the keyword it fills; `shown` is --help text (help, show_default)."""
    return {
        "names": names,
        "dest": dest,
        "flag": flag,
        "choices": choices,
        "default": False if flag else default,
        "shown": shown,
    }


# command -> its argument (keyword, how many: -1 for any number; None for no argument) and its
# options, in --help order
COMMANDS = {
    "token": {
        "argument": ("name", 1),
        "options": (
            option("--connection", "-c", dest="connection", help="Connection name (or NAME:C)."),
        ),
    },
    "env": {
        "argument": ("names", -1),
        "options": (
            option("--shell", dest="shell", choices=DIALECTS, help="Shell dialect."),
            option("--format", dest="fmt", choices=FORMATS, default=SHELL, show_default=True),
            option(
                "--unset", dest="unset", flag=True, help="Remove what an earlier `env` exported."
            ),
            option(
                "--strict",
                dest="strict",
                flag=True,
                help="All or nothing: export nothing if any name fails.",
            ),
        ),
    },
    "list": {
        "argument": None,
        "options": (option("--json", dest="as_json", flag=True, help="Print JSON."),),
    },
}
