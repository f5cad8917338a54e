"""Run a blocking call with an overall time limit."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing


class DeadlineExceeded(Exception):
    """The call did not finish in time: stopped (interrupted), or going on in an abandoned
    daemon thread (within)."""


def within(fn, seconds: float, name: str = "authsome-deadline"):
    """`fn()`, or DeadlineExceeded after `seconds`.

    Socket and D-Bus timeouts bound each read, not the whole exchange: a peer that drips a
    byte at a time never trips them. A daemon thread does, and the process can still exit
    (or take Ctrl-C) while the call hangs.
    """
    import threading  # here: interrupted() bounds the keychain's hot path without it

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


class _Rang(BaseException):
    """The alarm, raised inside the call: a BaseException, so no `except Exception` keeps it."""


def interrupted(fn, seconds: float, name: str = "authsome-deadline"):
    """`fn()`, or DeadlineExceeded after `seconds`, as within() but with no thread when it can:
    on the main thread, with no other SIGALRM in use, a timer's signal stops the call itself.

    A thread costs its import and two switches, as much as the keychain's read; the call must
    be one that may be cut anywhere, such as an exchange on a D-Bus connection of its own."""
    if TYPE_CHECKING:  # _signal has no stubs; its functions are signal's
        import signal
    else:
        try:
            # The C half of `signal`, loaded with the interpreter: signal.py would build its
            # enums (about 1 ms), and its functions are these with enum-typed results.
            import _signal as signal
        except ImportError:
            import signal

    alarm = getattr(signal, "SIGALRM", None)  # none on Windows
    if alarm is None or signal.getsignal(alarm) != signal.SIG_DFL:
        return within(fn, seconds, name)
    if signal.getitimer(signal.ITIMER_REAL)[0]:
        return within(fn, seconds, name)  # someone else's timer: leave it be
    armed = [True]

    def ring(_signum, _frame):
        if armed:  # once: the call's own clean-up (closing its socket) runs undisturbed
            armed.clear()
            raise _Rang

    try:
        signal.signal(alarm, ring)
    except ValueError:  # not the main thread: only it runs signal handlers
        return within(fn, seconds, name)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            return fn()
        finally:
            armed.clear()
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(alarm, signal.SIG_DFL)
    except _Rang:
        signal.signal(alarm, signal.SIG_DFL)  # when it rang as the call returned
        raise DeadlineExceeded from None
