"""How `run` starts its command, and how the command's end becomes authsome's.

With no secret in the command's environment, or with --no-masking, authsome becomes the
command (exec). Otherwise the command runs as a child whose stdout and stderr pass through
authsome (util/relay.py), every secret replaced by `<concealed by authsome>`, so a transcript
of its output (an agent's) never holds one. When our stdout is a terminal the child gets a
terminal of its own (a pty) whose output is relayed; otherwise pipes. Its exit status, or
the signal that ended it, is authsome's.
"""

from __future__ import annotations

import contextlib
import os
import signal

from authsome.util.child import FORWARDED, FROM_TERMINAL, forwarding, in_foreground, wait


def exec_or_relay(command: list[str], environ: dict[str, str], secrets) -> int:
    """Become `command` when `secrets` is empty; else run it masked, returning its status
    (a signal that ended it ends authsome the same way)."""
    from authsome.util.masking import Masker

    maskers = (Masker(secrets), Masker(secrets))
    if not maskers[0].secrets:
        try:
            os.execvpe(command[0], command, environ)  # noqa: S606 - argv, no shell
        except (FileNotFoundError, PermissionError) as e:
            raise _not_runnable(command, e) from None
    return exit_status(run_masked(command, environ, maskers))


def run_masked(command: list[str], environ: dict[str, str], maskers) -> int:
    """Run `command` with its output masked; its status as subprocess gives it (-N: signal N)."""
    if os.isatty(1):
        from authsome.services.childpty import run_on_pty

        return run_on_pty(command, environ, maskers, spawn)
    from authsome.util.relay import Relay

    out_r, out_w = _pipe()
    err_r, err_w = _pipe()
    try:
        pid = spawn(command, environ, [(os.POSIX_SPAWN_DUP2, out_w, 1),
                                       (os.POSIX_SPAWN_DUP2, err_w, 2)])  # fmt: skip
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    relay = Relay()
    relay.add(out_r, 1, maskers[0])
    relay.add(err_r, 2, maskers[1])
    # In a terminal's foreground the child gets Ctrl-C from the terminal as we do; passing it
    # on would deliver it twice. Elsewhere (an agent's harness) only we get it: pass it on.
    ignored = FROM_TERMINAL if in_foreground() else ()
    with forwarding(pid, FORWARDED + tuple(set(FROM_TERMINAL) - set(ignored)), ignored):
        relay.run()
        return wait(pid)


def _pipe() -> tuple[int, int]:
    """A pipe, made as large as this user may (Linux: 1 MiB): fewer, larger reads and writes
    for a child that writes much."""
    import fcntl

    r, w = os.pipe()
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
    return r, w


def spawn(command: list[str], environ: dict[str, str], actions, setsid: bool = False) -> int:
    """util.child.spawn, its failure to start the command a one-line error (exit 127)."""
    from authsome.util.child import spawn as start

    try:
        return start(command, environ, actions, setsid)
    except (FileNotFoundError, PermissionError) as e:
        raise _not_runnable(command, e) from None


def exit_status(status: int) -> int:
    """authsome's exit status for a child's: the same code; for a signal, the same signal."""
    if status < 0:
        die_by(-status)
        return 128 - status
    return status


def die_by(sig: int) -> None:
    """End this process by `sig`, as the child ended, so the caller sees the same status."""
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


def _not_runnable(command, e):
    from authsome.services.childenv import not_runnable

    return not_runnable(command, e)
