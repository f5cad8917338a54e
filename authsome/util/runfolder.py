"""A private folder for one run's files, in the temporary folder, named by its process.

A run removes its folder when it ends; one that was SIGKILLed cannot, so each new run first
removes the folders of this user's runs whose process is gone.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

PREFIX = "authsome-run-"


def make() -> str:
    """A new 0700 folder for this run, after sweeping away those killed runs left."""
    base = tempfile.gettempdir()
    sweep(base)
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)


def sweep(base: str) -> list[str]:
    """Remove the run folders in `base` that are this user's and whose process is gone."""
    try:
        names = os.listdir(base)
    except OSError:
        return []
    removed = []
    for name in names:
        pid = name[len(PREFIX) :].partition("-")[0] if name.startswith(PREFIX) else ""
        if not (pid.isascii() and pid.isdigit()) or _alive(int(pid)):
            continue
        path = os.path.join(base, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        # Only a real folder of ours: in a shared /tmp another user may have made the name,
        # or a link by it; the sticky bit keeps others from swapping ours once it is checked.
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's counts: its folder is not ours to judge)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
