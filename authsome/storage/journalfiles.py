"""Writing the journal's files: whole or not at all, a spare zeroed in place, and the place of
last resort in $XDG_RUNTIME_DIR. Imported only when something is written: `token` reads."""

from __future__ import annotations

import errno
import os

from authsome.util import fsutil


def write_all(fd: int, data: bytes, path: str) -> None:
    """Write `data` and fsync; a short write (a full disk) is an error, not a torn entry."""
    try:
        if os.write(fd, data) != len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        os.fsync(fd)
    except OSError as e:
        raise fsutil.named(e, path) from None


def blank(spare: str, line_max: int) -> None:
    """Zero the whole entry at the start of `spare`, in place: its space stays reserved."""
    fd = fsutil.open_own(spare, os.O_RDWR)
    with os.fdopen(fd, "r+b") as f:
        line = f.readline(line_max)
        if not line.startswith(b"{") or not line.endswith(b"\n"):
            return  # zeros, or torn: the refresh that holds the lock may be writing it now
        f.seek(0)
        f.write(bytes(len(line)))
        f.flush()
        os.fsync(f.fileno())


def keep_in_runtime(path: str | None, runtime: str | None, data: bytes, error: OSError) -> str:
    """Write the entry `data` to `path` in $XDG_RUNTIME_DIR, a private folder of this user's
    elsewhere than the home; else raise `error`, why the journal could not take it."""
    from authsome.util.fsutil import not_own_problem

    if path is None or runtime is None or not_own_problem(runtime, 0o077):
        raise error
    try:
        fsutil.ensure_private_dir(os.path.dirname(path))
        fsutil.atomic_write(path, data)
    except OSError:
        raise error from None
    return path
