"""Starting a child and passing signals on to it: what `run` needs besides exec."""

from __future__ import annotations

import contextlib
import os
import signal

FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
# The terminal sends these to its whole foreground group: to a child in ours too.
FROM_TERMINAL = (signal.SIGINT, signal.SIGQUIT)
# Python ignores these; a child must not inherit that (subprocess's restore_signals).
RESET = (signal.SIGPIPE, signal.SIGXFSZ)


def spawn(command: list[str], environ: dict[str, str], actions, setsid: bool = False) -> int:
    """Start `command` (found on the PATH it is given, as exec would) without running any
    Python in the child: safe beside run --proxy's threads."""
    return os.posix_spawn(_which(command[0], environ), command, environ,
                          file_actions=actions, setsigdef=RESET, setsid=setsid)  # fmt: skip


def _which(name: str, environ: dict[str, str]) -> str:
    if "/" in name:
        return name
    denied = None
    for folder in environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", name)
        if os.path.isfile(path):
            if os.access(path, os.X_OK):
                return path
            denied = path
    if denied:
        raise PermissionError(denied)
    raise FileNotFoundError(name)


def wait(pid: int) -> int:
    """The ended child's status: its exit code, or -N when signal N ended it."""
    while True:
        done, status = os.waitpid(pid, 0)
        if done == pid and not os.WIFSTOPPED(status):
            return os.waitstatus_to_exitcode(status)


class forwarding:  # noqa: N801 - used as a context manager, like contextlib's
    """Pass `forwarded` signals on to `pid`; ignore `ignored` ones meanwhile."""

    def __init__(self, pid: int, forwarded, ignored=(), to=os.kill):
        self.pid, self.forwarded, self.ignored, self.to = pid, forwarded, ignored, to
        self.saved: dict = {}

    def _pass(self, signum, _frame) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.to(self.pid, signum)

    def __enter__(self):
        for sig in self.forwarded:
            self.saved[sig] = signal.signal(sig, self._pass)
        for sig in self.ignored:
            self.saved[sig] = signal.signal(sig, signal.SIG_IGN)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def foreground(fd: int) -> bool:
    """Whether `fd` is a terminal whose foreground group this process is in."""
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


def in_foreground() -> bool:
    """Whether this process is in its controlling terminal's foreground group."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)
