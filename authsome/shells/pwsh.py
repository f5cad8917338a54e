"""The PowerShell dialect: single quotes, with every kind of single quote doubled."""

import re

NAME = "pwsh"
HOOK_FILE = None
COMPLETION_FILE = None
STARTUP = None  # no start-up lines for `authsome setup-shell`
# PowerShell treats the typographic single quotes as quote characters too.
_QUOTES = re.compile("(['\u2018\u2019\u201a\u201b])")


def quote(value: str) -> str:
    return "'" + _QUOTES.sub(r"\1\1", value) + "'"


def export(name: str, value: str) -> str:
    return f"$env:{name} = {quote(value)}"


def unset(name: str) -> str:
    return f"Remove-Item -ErrorAction SilentlyContinue Env:{name}"


def source(command: str) -> str:
    """How a user runs `command`'s shell code in this shell (for hints)."""
    return f"{command} --shell pwsh | Out-String | Invoke-Expression"
