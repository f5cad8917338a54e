"""`authsome scan --import [--rewrite] [--force]`: what scan found, stored as connections,
and each imported value in its file replaced by its reference.

A key is checked against its provider's pattern before it is stored, and never shown. A key
that differs from the stored one replaces it only with --force. The rewrite edits the value's
bytes in place of the file's text (the dotenv reader gives their span) and swaps the file in
atomically, keeping its mode: comments, order, blank lines and the other values' quoting stay
as they were, and no copy of the old file is kept. Git may still hold the old value.
"""

from __future__ import annotations

import os

from authsome.errors import UsageError
from authsome.services.scan import DIFFERENT, ENVIRONMENT, EQUAL, NOT_STORED

FIELD = "api_key"
HISTORY = (
    "authsome: the old values may still be in git's history (and in copies of the files)."
    ' Check with: git log --oneline -S "$(authsome token {ref})" -- {path}'
)


def import_found(ctx, found, connection: str, force: bool = False) -> int:
    """Store each finding's key (the first of several for one provider); how many were."""
    from authsome.oauth.apikey import check

    stored = 0
    for f in found:
        provider = ctx.registry.get(f.provider)
        if provider.auth_type != "api_key" or not provider.api_key:
            f.why = f"an OAuth login, not imported: authsome login {f.provider}"
            continue
        if f.state == DIFFERENT and not force:
            f.why = "not imported: the stored key differs; --force replaces it"
            continue
        if f.state == EQUAL:
            f.why = "already stored"
            continue
        where = f"{f.path}:{f.line}" if f.line else f"${f.key}"
        try:
            key = check(provider, f.value.strip(), where)
        except UsageError as e:  # says why, never the key
            f.why = f"not imported: {e.what}"
            continue
        _store(ctx, provider, connection, f.key, key, where)
        stored += 1
        for other in found:  # the others for this provider, against what is stored now
            if other.provider == f.provider:
                other.state = EQUAL if other.value == f.value else DIFFERENT
        f.why = "imported"
    return stored


def _store(ctx, provider, connection: str, var: str, key: str, where: str) -> None:
    from authsome.services.audit import record
    from authsome.storage.connections import Connection

    ctx.store_choice.store.prepare()
    conn = Connection(provider.name, connection, "api_key", "api_key", {FIELD: key})
    where_stored = ctx.connections.save(conn)
    record(ctx, "import", provider.name, connection)
    ctx.io.say(f"authsome: imported {var} ({where}) as {provider.name} ({connection})."
               f" {where_stored}")  # fmt: skip


def rewrite(ctx, found, connection: str) -> list[str]:
    """Each file's imported values replaced by their references; the files rewritten."""
    from authsome.services.references import format_ref

    by_file: dict[str, list] = {}
    for f in found:
        if f.path != ENVIRONMENT and f.state == EQUAL and f.why in ("imported", "already stored"):
            by_file.setdefault(f.path, []).append(f)
    done = []
    for path, findings in by_file.items():
        refs = {(f.line, f.key): format_ref(f.provider, connection, FIELD) for f in findings}
        values = {(f.line, f.key): f.value for f in findings}
        count = _rewrite_file(path, refs, values)
        for f in findings:
            f.why += ", rewritten"
        done.append(f"{path} ({count} value{'s' if count != 1 else ''} now references)")
    return done


def _rewrite_file(path: str, refs: dict, values: dict) -> int:
    """Replace, in the file at `path`, each (line, key)'s value by its reference, if it is
    still the value that was found; the count replaced."""
    from authsome.formats.dotenvparse import parse

    real = os.path.realpath(path)  # a symlinked .env: its target is rewritten
    with open(real, "rb") as f:
        data = f.read()
    edits = []
    for entry in parse(data, path):
        spot = (entry.line, entry.key)
        if spot in refs and entry.value == values[spot]:
            text = f"{entry.quote}{refs[spot]}{entry.quote}".encode()
            edits.append((entry.span, text))
    for (start, end), text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    _replace(real, data)
    return len(edits)


def _replace(path: str, data: bytes) -> None:
    """Swap `data` in for the file at `path` atomically, keeping its mode; no backup."""
    from authsome.util.fsutil import atomic_write

    atomic_write(path, data, os.stat(path).st_mode & 0o7777)


def left(found) -> list:
    """The findings whose plaintext is still where it was found."""
    return [f for f in found if not f.why.endswith("rewritten")]


__all__ = ["NOT_STORED", "import_found", "left", "rewrite"]
