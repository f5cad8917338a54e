"""A private folder for one run's files, in the temporary folder, named by its process.

A run removes its folder when it ends; one that was SIGKILLed cannot, so each new run first
removes this user's run folders that no run holds any more. A run holds its folder by a lock
on a file in it, which the kernel lets go when the process dies, whatever pid namespace or
machine (a shared TMPDIR) it ran in.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

PREFIX = "authsome-run-"
LOCK = ".held"


def make() -> tuple[str, int | None]:
    """A new 0700 folder for this run and the descriptor that holds it (None where there are
    no locks), after sweeping away the folders killed runs left."""
    base = tempfile.gettempdir()
    if os.name != "posix":
        return tempfile.mkdtemp(prefix=PREFIX, dir=base), None
    import fcntl

    sweep(base)
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)
    fd = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return folder, fd


def remove(folder: str, fd: int | None) -> None:
    """The run is over: its folder goes, then its hold."""
    shutil.rmtree(folder, ignore_errors=True)
    if fd is not None:
        os.close(fd)


def sweep(base: str) -> list[str]:
    """Remove the run folders in `base` that are this user's and that no run holds."""
    try:
        names = os.listdir(base)
    except OSError:
        return []
    removed = []
    for name in names:
        pid, dash, _ = name[len(PREFIX) :].partition("-")
        if not (name.startswith(PREFIX) and dash and pid.isascii() and pid.isdigit()):
            continue  # not a run folder of this version (older ones had no pid in the name)
        path = os.path.join(base, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        # Only a real folder of ours: in a shared /tmp another user may have made the name,
        # or a link by it; the sticky bit keeps others from swapping ours once it is checked.
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and _let_go(path, int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _let_go(folder: str, pid: int) -> bool:
    """Whether no run holds `folder`: its process is gone and its lock (if it got as far as
    taking one) is free. Both: the pid alone misleads across pid namespaces and machines, the
    lock alone in the moment between making the folder and locking it."""
    if _alive(pid):
        return False
    import fcntl

    try:
        fd = os.open(os.path.join(folder, LOCK), os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's counts: its folder is not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return pid > 0
