"""Hold off Ctrl-C, SIGTERM and SIGHUP while a spent refresh token's successor is saved."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

DEFERRED = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def deferred(notice=None):
    """Record these signals inside the block and deliver the first one after it.

    A provider that rotates refresh tokens spends the old one the moment it answers; dying
    between its answer and our save would lose the login. So an impatient Ctrl-C still ends
    the command, but only once the new tokens are stored. `notice(text)` tells the person.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be installed from the main thread
        return
    caught: list[int] = []

    def hold(signum, frame):
        if not caught and notice is not None:
            notice("authsome: saving the new tokens first; stopping right after.")
        caught.append(signum)

    previous = {}
    for name in DEFERRED:
        number = getattr(signal, name, None)
        # One that is ignored stays ignored (a job started with `&` from a script ignores
        # SIGINT): it would not stop the command afterwards either.
        if number is not None and signal.getsignal(number) != signal.SIG_IGN:
            previous[number] = signal.signal(number, hold)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if caught:
            # The original handler acts now: KeyboardInterrupt for SIGINT, death for SIGTERM.
            signal.raise_signal(caught[0])
