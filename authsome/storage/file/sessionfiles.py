"""Sweeping the session folder by what each file says in the clear: its expiry and its vault.

Neither `token` nor `env` needs this: only unlock (expired files) and lock (every file of a vault).
"""

from __future__ import annotations

import contextlib
import os

from authsome.util import jsonfast


def _each(folder):
    """(path, its document) of each readable session file in `folder`."""
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError, ValueError):
            with open(path, encoding="utf-8") as f:
                doc = jsonfast.loads(f.read())
            if isinstance(doc, dict):
                yield path, doc


def remove_expired(folder, now: float) -> None:
    """Delete session files past their expiry."""
    for path, doc in _each(folder):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            if int(doc["expires_at"]) <= now:
                os.unlink(path)


def remove_vault(folder, vault: str) -> int:
    """Delete every session file of `vault`, whichever shell holds its token; how many."""
    removed = 0
    for path, doc in _each(folder):
        if doc.get("vault") == str(vault):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed += 1
    return removed
