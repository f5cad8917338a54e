"""A step that must not be left half done, run in a helper that outlives the command.

A process cannot survive its own SIGKILL (an OOM kill, `kill -9`, a runner killing its child),
but the step need not live in that process. The helper is forked into a session of its own, so
that a signal to the command's process group does not reach it, with stdin, stdout and stderr
on /dev/null, so that `$(authsome token x)` returns as soon as the command dies. It reports over
a pipe, one JSON document a line. The command waits for it, passing SIGINT, SIGTERM and SIGHUP
on (the helper defers them where it must), and stops by the first of them once it is done.
"""

from __future__ import annotations

import os
import signal

from authsome.util import jsonfast

FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP")


def possible() -> bool:
    """Whether a helper can be forked: POSIX, and this the only thread (fork copies the calling
    thread alone, and a lock another thread held would never be released in the helper)."""
    import sys

    # macOS: the keychain's frameworks are not safe to use in a child forked after they were.
    if not hasattr(os, "fork") or sys.platform == "darwin":
        return False
    import threading

    return threading.active_count() == 1 and threading.current_thread() is threading.main_thread()


class _Forward:
    """The command's handler while it waits: pass the signal on to the helper, and remember it."""

    def __init__(self):
        self.pid = 0
        self.caught: list[int] = []

    def __call__(self, signum, frame) -> None:
        self.caught.append(signum)
        if self.pid:
            import contextlib

            with contextlib.suppress(ProcessLookupError):  # already done
                os.kill(self.pid, signum)


def run(work, receive) -> bool:
    """Run `work(send)` in a helper, `receive(doc)` getting each document it sends; then raise
    the first signal the command got meanwhile. False when no helper could be started."""
    numbers = [getattr(signal, name) for name in FORWARDED if hasattr(signal, name)]
    forward = _Forward()
    # Blocked across the fork: a signal now is handled by the command, after the helper is known.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, numbers)
    previous = {number: signal.signal(number, forward) for number in numbers}
    try:
        r, w = os.pipe()
    except OSError:
        _restore(previous, mask)
        return False
    try:
        pid = os.fork()
    except OSError:  # no memory or processes to spare: the caller does the work itself
        _restore(previous, mask)
        os.close(r)
        os.close(w)
        return False
    if pid == 0:
        _helper(work, r, w, previous, mask)
    os.close(w)
    forward.pid = pid
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    try:
        _relay(r, receive)
        os.waitpid(pid, 0)
    finally:
        os.close(r)
        _restore(previous, None)
    if forward.caught:
        signal.raise_signal(forward.caught[0])  # SIGINT: KeyboardInterrupt; others: death
    return True


def _restore(previous: dict, mask) -> None:
    for number, handler in previous.items():
        signal.signal(number, signal.SIG_DFL if handler is None else handler)
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _relay(r: int, receive) -> None:
    """Hand each whole line the helper writes to `receive`, until it closes the pipe."""
    pending = b""
    while chunk := os.read(r, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            receive(jsonfast.loads(line))


def _helper(work, r: int, w: int, previous: dict, mask) -> None:
    """The helper's whole life; it never returns into the command's code."""
    code = 1
    try:
        os.close(r)
        os.setsid()
        _restore(previous, mask)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        work(lambda doc: _send(w, doc))
        code = 0
    except KeyboardInterrupt:
        code = 130
    except Exception as e:  # noqa: BLE001 - a bug: the command reports it (--debug shows it)
        import traceback

        _send(w, {"bug": "".join(traceback.format_exception(e)).strip()})
    finally:
        os._exit(code)


def _send(w: int, doc: dict) -> None:
    data = (jsonfast.dumps(doc) + "\n").encode()
    try:
        while data:
            data = data[os.write(w, data) :]
    except OSError:
        pass  # the command is gone: the work goes on without anyone to tell
