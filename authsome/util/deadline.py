"""Run a blocking call with an overall time limit."""

from __future__ import annotations

import threading


class DeadlineExceeded(Exception):
    """The call did not finish in time; it goes on in an abandoned daemon thread."""


def within(fn, seconds: float, name: str = "authsome-deadline"):
    """`fn()`, or DeadlineExceeded after `seconds`.

    Socket and D-Bus timeouts bound each read, not the whole exchange: a peer that drips a
    byte at a time never trips them. A daemon thread does, and the process can still exit
    (or take Ctrl-C) while the call hangs.
    """
    result: list = []
    error: list = []

    def run():
        try:
            result.append(fn())
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            error.append(e)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded
    if error:
        raise error[0]
    return result[0] if result else None
