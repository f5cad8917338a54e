"""Shell dialects: one module each, all with quote/export/unset/source; a table picks one.

Each also names its prompt hook in shell/ (HOOK_FILE) and its completion script in
completions/ (COMPLETION_FILE), None where it has none.
"""

from __future__ import annotations

import os
import sys

from authsome.errors import UsageError

DIALECTS = ("bash", "zsh", "fish", "sh", "pwsh")
# Programs that evaluate a dialect's code but are not shells: a hook file, never --shell.
HOSTS = ("direnv",)
ALIASES = {"dash": "sh", "ksh": "sh", "mksh": "sh", "ash": "sh", "powershell": "pwsh"}


def get(name: str):
    """The dialect module for a shell name ('bash', 'fish', ...)."""
    name = ALIASES.get(name, name)
    if name not in DIALECTS + HOSTS:
        choices = ", ".join(DIALECTS)
        raise UsageError(f"unknown shell {name!r}", f"use --shell with one of: {choices}")
    module = f"authsome.shells.{name}"
    __import__(module)  # not importlib: its import costs the hot path ~0.4 ms
    return sys.modules[module]


def supporting(attribute: str) -> tuple[str, ...]:
    """The dialects (and hosts) with a file for `attribute` ("HOOK_FILE", "COMPLETION_FILE")."""
    return tuple(name for name in DIALECTS + HOSTS if getattr(get(name), attribute))


def safe_names(text: str) -> list[str]:
    """Variable names from a space-separated list, dropping anything that is not a name."""
    # An ASCII identifier is [A-Za-z_][A-Za-z0-9_]*: no regex to compile on every `env`.
    return [n for n in (text or "").split() if n.isascii() and n.isidentifier()]


def script(dialect, values: dict[str, str], unsets=()) -> str:
    """Shell code that unsets `unsets`, then exports `values`."""
    lines = [dialect.unset(n) for n in unsets] + [dialect.export(k, v) for k, v in values.items()]
    return "".join(line + "\n" for line in lines)


def detect(environ: dict[str, str], parent: str | None = None) -> str:
    """The shell that will read our output: the parent process when it is a shell (fish
    started from bash, a pane in tmux, where $SHELL is wrong), else $SHELL; 'sh' when unknown."""
    parent = parent_name() if parent is None else parent
    return _dialect(parent) or _dialect(environ.get("SHELL", "")) or "sh"


def parent_name() -> str:
    """The parent process's command name (Linux /proc: one small read); '' when unknown."""
    try:
        with open(f"/proc/{os.getppid()}/comm", "rb") as f:
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _dialect(path: str) -> str | None:
    """'bash' for '/bin/bash', '-zsh', 'zsh5' or 'pwsh.exe'; None when it names no shell."""
    base = os.path.basename(path).lstrip("-")
    base = base[:-4] if base.endswith(".exe") else base
    base = base.rstrip("0123456789.")
    base = ALIASES.get(base, base)
    return base if base in DIALECTS else None
