"""The github-actions format: values appended to $GITHUB_ENV, masks on stdout.

GitHub's grammar for that file ("Multiline strings" in its workflow-commands docs) is
NAME<<DELIMITER, the value's lines, DELIMITER; the delimiter is random and must not occur in
the value, or a value could end its own block and set other variables. The masks
(::add-mask::, one per line of a value: the runner masks log lines) are printed before the
file is written, so no later step can log a value the runner does not yet mask.
"""

from __future__ import annotations

import os

from authsome.errors import FilesystemError, UsageError

NAME = "github-actions"
ENV_FILE = "GITHUB_ENV"


def render(result, unsets, dialect) -> str:
    """The ::add-mask:: lines; the values themselves go to the file (deliver)."""
    return "".join(f"::add-mask::{_escape(line)}\n" for line in mask_lines(result.values))


def warnings(values: dict[str, str]) -> list[str]:
    return []


def mask_lines(values: dict[str, str]) -> list[str]:
    """Every non-empty line of every value, each once, in order."""
    lines: list[str] = []
    for value in values.values():
        for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            if line and line not in lines:
                lines.append(line)
    return lines


def _escape(data: str) -> str:
    """A workflow command's data, as actions/toolkit escapes it: the runner unescapes %25 etc."""
    return data.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def target(environ: dict[str, str]) -> str:
    """The file to write, checked before any credential is read."""
    path = environ.get(ENV_FILE, "")
    if not path:
        raise UsageError(
            f"--format {NAME} needs ${ENV_FILE}, which GitHub Actions sets in each step",
            "run it in a workflow step, or use --format dotenv elsewhere",
        )
    return path


def deliver(result, path: str) -> None:
    """Append every value to `path` in one write."""
    text = "".join(entry(name, value) for name, value in result.values.items())
    try:
        with open(path, "a", encoding="utf-8", newline="\n") as f:
            f.write(text)
    except OSError as e:
        raise FilesystemError(
            f"cannot write ${ENV_FILE} ({path}): {e.strerror}", "check the file and its folder"
        ) from None


def entry(name: str, value: str, token=lambda: os.urandom(16).hex()) -> str:
    """NAME<<DELIMITER / value / DELIMITER, with a delimiter found in neither."""
    while True:
        delimiter = f"ghadelimiter_{token()}"
        if delimiter not in value and delimiter not in name:
            return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
