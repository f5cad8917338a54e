"""The dotenv format: KEY=value lines that python-dotenv and docker --env-file read back.

Plain values are written bare (docker reads quotes literally); anything else is single-quoted,
which python-dotenv reads literally apart from \\\\ and \\'.
"""

import re

NAME = "dotenv"
_BARE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")


def quote(value: str) -> str:
    if _BARE.fullmatch(value):  # fullmatch: $ alone lets a final newline through
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def export(name: str, value: str) -> str:
    return f"{name}={quote(value)}"


def render(result, unsets, dialect) -> str:
    """KEY=value lines; nothing is unset (a file has no earlier state to undo)."""
    return "".join(export(k, v) + "\n" for k, v in result.values.items())


def warnings(values: dict[str, str]) -> list[str]:
    return [
        f"authsome: warning: {name} holds characters that docker --env-file reads "
        "literally (quotes, newlines) or python-dotenv expands (${...})."
        for name in unsafe_for_docker(values)
    ]


def unsafe_for_docker(values: dict[str, str]) -> list[str]:
    """Names whose values docker --env-file (no quotes, no newlines) would read differently,
    or that python-dotenv would interpolate (${...})."""
    return sorted(k for k, v in values.items() if quote(v) != v or "${" in v)
