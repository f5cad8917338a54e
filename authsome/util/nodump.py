"""No core dumps: a crash must not write the passphrase, the vault key or tokens to disk.

This runs first in every command, `token` and `env` included, so it costs about 2 ms: on
Linux one ctypes load does both calls (importing `resource` as well would add about 1 ms).
"""

from __future__ import annotations

import sys


def disable_core_dumps() -> None:
    """Best effort: where a call is missing or refused, authsome still runs."""
    _PLATFORM.get(sys.platform, _posix)()


def _posix() -> None:
    """RLIMIT_CORE 0, soft and hard, so neither we nor our children can raise it again."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # no resource module (Windows), or a limit we may not change


def _linux() -> None:
    """RLIMIT_CORE 0, and prctl(PR_SET_DUMPABLE, 0): no core even through a core_pattern pipe
    (systemd-coredump, apport), and no ptrace or /proc/PID/mem by the user's other processes.
    execve makes children dumpable again."""
    import ctypes

    rlimit_core, pr_set_dumpable = 4, 4  # <sys/resource.h>, <linux/prctl.h>
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        zero = (ctypes.c_ulong * 2)(0, 0)  # struct rlimit {rlim_t cur, max}
        libc.setrlimit(rlimit_core, zero)
        libc.prctl(pr_set_dumpable, 0, 0, 0, 0)
    except (OSError, AttributeError):
        _posix()


_PLATFORM = {"linux": _linux}
