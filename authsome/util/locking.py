"""An exclusive inter-process lock on a file, held for the duration of a `with` block."""

from __future__ import annotations

import os
import sys

from authsome.util import fsutil

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    from authsome.util._lock_windows import lock_fd, unlock_fd
else:
    from authsome.util._lock_posix import lock_fd, unlock_fd


def file_lock(path) -> _FileLock:
    """Block until this process holds the lock file `path` exclusively."""
    return _FileLock(path)


class _FileLock:
    # A class, not contextlib.contextmanager: contextlib's import is about 0.8 ms, and `list`
    # and `token` import this module.
    def __init__(self, path):
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        fsutil.ensure_private_dir(os.path.dirname(os.fspath(self.path)))
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            lock_fd(fd)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def __exit__(self, *exc) -> None:
        try:
            unlock_fd(self.fd)
        finally:
            os.close(self.fd)
