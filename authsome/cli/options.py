"""The arguments and options of `token`, `env` and `list`, declared once.

Two readers: cli/fastpath.py parses argv with them, and cli/token.py, cli/env.py and
cli/listing.py hand them to click (cli/declared.py), so the two cannot disagree on what a
command accepts. tests/test_fastpath.py checks that they give the same answers. Plain data and
no click: the fast path reads this module on every call.
"""


class _Names:
    """A tuple of names from another module, imported when first read: `token` and `list`
    never read the shells' or the formats' names, and skip importing them."""

    def __init__(self, module: str, attr: str):
        self._where, self._names = (module, attr), None

    def _get(self) -> tuple[str, ...]:
        if self._names is None:
            module, attr = self._where
            __import__(module)
            import sys

            self._names = tuple(getattr(sys.modules[module], attr))
        return self._names

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, name) -> bool:
        return name in self._get()

    def __getitem__(self, i):
        return self._get()[i]


DIALECTS = _Names("authsome.shells", "DIALECTS")
FORMATS = _Names("authsome.formats", "NAMES")
SHELL = "shell"  # formats.SHELL; tests/test_fastpath.py checks they agree


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
