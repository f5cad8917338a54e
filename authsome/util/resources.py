"""Files that ship with authsome: providers/, shell/ and completions/."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # authsome/


def data_dir(name: str) -> Path:
    """The bundled folder `name`: inside the installed package, or at the source-tree root."""
    installed = _PACKAGE / "data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
