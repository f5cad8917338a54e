"""The audit log: one JSON line for each credential handed out, in ~/.authsome/audit.log.

Each line is one O_APPEND write, so lines from processes writing at once never mix (git's
trace2 writes the same way), and readers skip a torn last line. A line says who asked (pid,
parent pid and the parent's command name) and for what, never a secret: an extra that looks
like one is hidden. Writing never fails a command: a log that cannot be written costs one
warning line. AUTHSOME_AUDIT=0, or "audit": false in config.json, turns it off.
"""

from __future__ import annotations

import os
import time

from authsome import settings
from authsome.util import jsonfast

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

MAX_BYTES = 10 * 1024 * 1024  # then audit.log becomes audit.log.1, replacing the one before
MAX_EXTRA = 512  # characters of one extra value: a line stays one small write
HIDDEN = "[hidden]"
_FLAGS = os.O_CREAT | os.O_APPEND | os.O_WRONLY
_PARTS = r"[^/?&=:;,@\s]+"  # compiled on first use (re caches it): most lines need none
_warned: list[bool] = []  # at most one warning per process
_asker: list[tuple[int, int]] = []  # (pid, ppid) of the command a refresh helper works for


def on_behalf_of(pid: int, ppid: int) -> None:
    """Name the command `pid` (child of `ppid`) as the asker in this process's lines: a refresh
    helper (services/refreshhelper.py) records for the command that forked it."""
    _asker[:] = [(pid, ppid)]


def record(
    ctx: Context, event: str, provider: str | None = None, connection: str | None = None, **extra
):
    """Append one line for `event`; never raises (but for Ctrl-C), never changes the exit code."""
    try:
        if not settings.resolve_audit(ctx.environ, ctx.config, ctx.home.config_file).value:
            return
        append(ctx, line(event, provider, connection, extra))
    except Exception as e:  # noqa: BLE001 - the log must never break the command it records
        _warn(ctx, e)


def line(event: str, provider, connection, extra: dict) -> bytes:
    """The JSON line for one event, with its newline."""
    ms = int(time.time() * 1000)
    pid, ppid = _asker[0] if _asker else (os.getpid(), os.getppid())
    doc = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z",
        "epoch": ms / 1000,
        "event": event,
        "provider": provider,
        "connection": connection,
        "pid": pid,
        "ppid": ppid,
        "parent": parent_command(ppid),
    }
    for key, value in extra.items():
        if key not in doc and value is not None:
            doc[key] = clean(key, value)
    return (jsonfast.dumps(doc) + "\n").encode()


def parent_command(ppid: int) -> str:
    """The parent's command name from /proc (Linux); '' where there is no /proc."""
    try:
        with open(f"/proc/{ppid}/comm", "rb") as f:
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def clean(key: str, value):
    """`value` as it may be logged: a path without its query, and every part that looks like
    a secret (a key pasted into a URL, a token as argv[0]) hidden."""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)[:MAX_EXTRA]
    if key == "path":
        text = text.split("?", 1)[0].split("#", 1)[0]
    if len(text) < 16:  # nothing shorter looks like a secret: spares the check its cost
        return text
    import re  # here: only long values are searched

    from authsome.util.secretlike import looks_like_secret

    return re.sub(_PARTS, lambda m: HIDDEN if looks_like_secret(m.group()) else m.group(), text)


def append(ctx: Context, data: bytes) -> None:
    """Write `data` with one O_APPEND write, rotating the log first when it is full."""
    from authsome.util.fsutil import open_own

    # Not a link planted in the home: its target would be chmod'ed and appended to.
    path = ctx.home.audit_file
    try:
        fd = open_own(path, _FLAGS)
    except FileNotFoundError:  # a first command, before any login made the home
        ctx.home.ensure()
        fd = open_own(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if st.st_size and st.st_size + len(data) > MAX_BYTES:
            os.close(fd)
            fd = -1
            _rotate(ctx, path, len(data))
            fd = open_own(path, _FLAGS)
        elif st.st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # made by hand or by an older copy: keep it private
        os.write(fd, data)
    finally:
        if fd >= 0:
            os.close(fd)


def _rotate(ctx: Context, path, need: int) -> None:
    """audit.log -> audit.log.1, once: processes that wait on the lock find a new log."""
    from authsome.util.locking import file_lock

    with file_lock(ctx.home.lock_path("audit")):
        try:
            if os.stat(path).st_size + need <= MAX_BYTES:
                return  # another process rotated it while we waited
        except FileNotFoundError:
            return
        os.replace(path, os.fspath(path) + ".1")


def _warn(ctx: Context, e: Exception) -> None:
    if _warned:
        return
    _warned.append(True)
    why = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
    import contextlib

    with contextlib.suppress(Exception):  # stderr itself may be gone
        ctx.io.say(f"authsome: warning: could not write the audit log ({why}).")
