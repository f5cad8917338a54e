"""`authsome log`: the audit log (authsome.services.audit), newest last, or followed as it grows.

Readers skip any line that is not a whole JSON object: a write cut off by a crash or a full
disk leaves a torn last line, which never hides the lines around it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from authsome.storage.connections import parse_ref
from authsome.util.termtext import printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

POLL = 0.2  # seconds between looks at the log, with --follow
_FIXED = ("time", "epoch", "event", "provider", "connection", "pid", "ppid", "parent")


class Filter:
    """Which lines to show: a provider, or NAME:CONNECTION; None shows every line."""

    def __init__(self, ref: str | None):
        self.provider = self.connection = None
        if ref:
            self.provider, connection = parse_ref(ref)
            self.connection = connection if ":" in ref else None

    def __call__(self, doc: dict) -> bool:
        if self.provider is not None and doc.get("provider") != self.provider:
            return False
        return self.connection is None or doc.get("connection") == self.connection


def check_known(ctx: Context, ref: str) -> None:
    """Raise the unknown-provider error, with the nearest name, when `ref` names none."""
    ctx.registry.check_known(parse_ref(ref)[0])


def parse(raw: bytes) -> dict | None:
    """The event a line holds, or None for a torn or garbled line."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("event"), str) else None


def last(ctx: Context, ref: str | None, n: int) -> tuple[list[tuple[str, dict]], int]:
    """The last `n` lines (text, event) that `ref` selects, oldest first, from audit.log and
    then audit.log.1; and how far audit.log was read, for `follow`."""
    shown: list[tuple[str, dict]] = []
    wanted = Filter(ref)
    path = Path(ctx.home.audit_file)
    size = 0
    for i, log in enumerate((path, path.with_name(path.name + ".1"))):
        if i and len(shown) >= n:
            break
        try:
            data = log.read_bytes()
        except FileNotFoundError:
            continue
        if i == 0:
            size = len(data)
        for raw in reversed(data.splitlines()):
            if len(shown) >= n:
                break
            doc = parse(raw)
            if doc is not None and wanted(doc):
                shown.append((raw.decode("ascii", "replace"), doc))
    return shown[::-1], size


def follow(ctx: Context, ref: str | None, offset: int, show) -> None:
    """Call show(text, event) for each line written to the log from `offset` on, forever.

    A rotated log is read from its start. Ends with Ctrl-C (KeyboardInterrupt)."""
    wanted, path, pending, inode = Filter(ref), ctx.home.audit_file, b"", None
    while True:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        if st is not None and (inode not in (None, st.st_ino) or st.st_size < offset):
            offset, pending = 0, b""  # rotated: the new log starts afresh
        if st is not None:
            inode = st.st_ino
        if st is not None and st.st_size > offset:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
            offset += len(data)
            *lines, pending = (pending + data).split(b"\n")
            for raw in lines:
                doc = parse(raw)
                if doc is not None and wanted(doc):
                    show(raw.decode("ascii", "replace"), doc)
        ctx.sleep(POLL)


def render(doc: dict) -> str:
    """One line for people: local time, event, NAME[:C], the parent command (pid), extras."""
    try:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(doc["epoch"])))
    except (KeyError, TypeError, ValueError, OverflowError):
        when = str(doc.get("time", "?"))
    ref = str(doc.get("provider") or "-")
    if doc.get("connection") not in (None, "default"):
        ref += f":{doc['connection']}"
    parent = f"{doc.get('parent') or '?'} ({doc.get('ppid', '?')})"
    extras = " ".join(f"{k}={v}" for k, v in doc.items() if k not in _FIXED)
    text = f"{when}  {doc['event']:<17}  {ref:<20}  {parent}" + (f"  {extras}" if extras else "")
    return printable(text)
