"""`env`'s output formats, one module each behind the same two functions, and a table.

    render(result, unsets, dialect) -> str   the whole output for an Export `result`
    warnings(values) -> list[str]            lines for stderr about values a reader may misread

"shell" writes the dialect of the user's shell (authsome.shells); the others ignore it.
A format that also writes a file (github-actions: $GITHUB_ENV) has two more:

    target(environ) -> str       that file, checked before any credential is read
    deliver(result, target)      writes it, after render's text is printed
"""

from __future__ import annotations

import sys

SHELL = "shell"
TABLE = {
    SHELL: "authsome.formats.shell",
    "dotenv": "authsome.formats.dotenv",
    "json": "authsome.formats.jsonfmt",
    "github-actions": "authsome.formats.github_actions",
}
NAMES = tuple(TABLE)


def get(name: str):
    """The format module for `name` (one of NAMES)."""
    __import__(TABLE[name])  # not importlib: its import costs the hot path ~0.4 ms
    return sys.modules[TABLE[name]]
