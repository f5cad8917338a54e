"""An exclusive inter-process lock on a file, held for the duration of a `with` block."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from authsome.util import fsutil

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    from authsome.util._lock_windows import lock_fd, unlock_fd
else:
    from authsome.util._lock_posix import lock_fd, unlock_fd


@contextmanager
def file_lock(path: Path):
    """Block until this process holds the lock file `path` exclusively."""
    fsutil.ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        lock_fd(fd)
        try:
            yield
        finally:
            unlock_fd(fd)
    finally:
        os.close(fd)
