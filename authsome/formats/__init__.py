"""`env`'s output formats, one module each behind the same two functions, and a table.

    render(result, unsets, dialect) -> str   the whole output for an Export `result`
    warnings(values) -> list[str]            lines for stderr about values a reader may misread

"shell" writes the dialect of the user's shell (authsome.shells); dotenv and json ignore it.
"""

from __future__ import annotations

import importlib

SHELL = "shell"
TABLE = {
    SHELL: "authsome.formats.shell",
    "dotenv": "authsome.formats.dotenv",
    "json": "authsome.formats.jsonfmt",
}
NAMES = tuple(TABLE)


def get(name: str):
    """The format module for `name` (one of NAMES)."""
    return importlib.import_module(TABLE[name])
