"""Files that ship with authsome: providers/, shell/ and completions/."""

from __future__ import annotations

import os

_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # authsome/


def data_path(name: str) -> str:
    """The bundled folder `name`: inside the installed package, or at the source-tree root."""
    # os.path, not pathlib: Tab on a provider name lists this folder and skips pathlib's import.
    installed = os.path.join(_PACKAGE, "data", name)
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(_PACKAGE), name)


def doc_path(page: str) -> str:
    """Where an installed page of the docs is, for messages that send the reader to it."""
    return os.path.join(data_path("docs"), page)


def data_dir(name: str):
    """data_path(name) as a pathlib.Path."""
    from pathlib import Path

    return Path(data_path(name))
