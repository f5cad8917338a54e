"""`authsome setup-shell`: the start-up lines, written into the shell's start-up file.

They name authsome by its absolute path, as the hook does: a login bash on Debian reads
~/.bashrc (from ~/.profile) before ~/.local/bin is on PATH, and zsh never reads ~/.profile,
so a bare `authsome` there is "command not found". The lines sit between two markers, so
running it again replaces them and --unset removes them; nothing else in the file changes.
"""

from __future__ import annotations

import os
import re

from authsome import shells
from authsome.errors import UsageError
from authsome.services.shell import self_command
from authsome.storage.connection import parse_ref

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

BEGIN = "# >>> authsome setup-shell >>>"
END = "# <<< authsome setup-shell <<<"
_BLOCK = re.compile(rf"(?:^\n)?^{re.escape(BEGIN)}$.*?^{re.escape(END)}$\n?", re.S | re.M)
# A line of the user's own that runs authsome at start-up, as the README's lines did.
_OWN = re.compile(r"^[^#\n]*authsome\S*'? (?:completion|env|hook)\b.*$", re.M)


def dialect_for(ctx: Context, shell: str | None):
    """The dialect whose start-up file to write: `shell`, else the one this runs in."""
    name = shell or shells.detect(ctx.environ)
    dialect = shells.get(name)
    if dialect.STARTUP is None:
        known = ", ".join(shells.supporting("STARTUP"))
        raise UsageError(f"setup-shell has no start-up lines for {name}", f"use --shell {known}")
    return dialect


def startup_lines(dialect, names: list[str]) -> list[str]:
    """The README's lines for `dialect`, naming authsome by its absolute path."""
    for name in names:
        parse_ref(name)  # only names: they are written into a file the shell runs
    words = "".join(f" {name}" for name in names)
    command = self_command(dialect)
    return [line.format(authsome=command, names=words) for line in dialect.STARTUP]


def setup_shell(ctx: Context, dialect, names: list[str], remove: bool) -> list[str]:
    """Write (or with `remove`, take out) the lines; what was done, as lines for people."""
    path = dialect.startup_file(ctx.environ)
    old = _read(path)
    text = _BLOCK.sub("", old)
    if remove:
        if text == old:
            return [f"no start-up lines of authsome's in {path}; nothing to remove"]
        _write(path, text)
        return [f"removed authsome's start-up lines from {path}"]
    block = "\n".join([BEGIN, *startup_lines(dialect, names), END]) + "\n"
    _write(path, (text.rstrip("\n") + "\n\n" if text.strip() else "") + block)
    done = "replaced authsome's start-up lines in" if text != old else "added start-up lines to"
    lines = [f"{done} {path}; new shells will run them"]
    own = _OWN.findall(text)
    if own:
        lines.append(f"{path} also runs authsome itself ({own[0].strip()!r}); remove that line")
    return lines


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as e:
        raise _cannot(path, e) from None


def _write(path: str, text: str) -> None:
    # In place, not by rename: a start-up file is often a link into a dotfiles repository.
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise _cannot(path, e) from None


def _cannot(path: str, e: Exception):
    from authsome.errors import FilesystemError

    reason = getattr(e, "strerror", None) or "not UTF-8 text"
    return FilesystemError(f"cannot update {path}: {reason}", "check the file, or use --print")
