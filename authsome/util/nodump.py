"""No core dumps: a crash must not write the passphrase, the vault key or tokens to disk.

This runs first in every command, `token` and `env` included, so it must be cheap: the
`resource` module sets the limit, and on Linux prctl is called through `_ctypes`, the C half
of ctypes. Importing ctypes itself builds its whole type system in Python, about 1.5 ms more
on every command; it remains the fallback should `_ctypes` change.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def disable_core_dumps() -> None:
    """Best effort: where a call is missing or refused, authsome still runs."""
    _posix()
    if sys.platform.startswith("linux"):
        _not_dumpable()


def _posix() -> None:
    """RLIMIT_CORE 0, soft and hard, so neither we nor our children can raise it again."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # no resource module (Windows), or a limit we may not change


def _not_dumpable() -> None:
    """prctl(PR_SET_DUMPABLE, 0): no core even through a core_pattern pipe (systemd-coredump,
    apport), and no ptrace or /proc/PID/mem by the user's other processes. execve makes
    children dumpable again."""
    try:
        import _ctypes

        # dlopen(NULL): the program itself, which the stubs do not allow for
        program = _ctypes.dlopen(None, _ctypes.RTLD_LOCAL)  # type: ignore[arg-type]
        prctl = _ctypes.dlsym(program, "prctl")
        _ctypes.call_function(prctl, (PR_SET_DUMPABLE, 0, 0, 0, 0))
    except (ImportError, AttributeError, OSError):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (ImportError, AttributeError, OSError):
            pass
