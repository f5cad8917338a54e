"""util/deadline.py: a call bounded in time, by a thread or by SIGALRM on the main thread."""

import signal
import socket
import threading
import time

import pytest

from authsome.util.deadline import DeadlineExceeded, interrupted, within


def _blocked():
    """A read that gets nothing; after 30 s it gives up (a TimeoutError, not the deadline's
    error), so that a bound that failed fails its test instead of hanging it."""
    ours, _theirs = socket.socketpair()
    with ours, _theirs:
        ours.settimeout(30)
        return ours.recv(1)


def _alarm_is_untouched():
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("bound", [within, interrupted])
def test_the_answer_or_the_error_comes_back(bound):
    assert bound(lambda: 42, 1.0) == 42
    with pytest.raises(KeyError):
        bound(lambda: {}["missing"], 1.0)


def test_a_blocked_call_is_stopped_on_the_main_thread_without_a_thread():
    before = threading.active_count()
    seen = []

    def blocked():
        seen.append(threading.active_count())
        return _blocked()

    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        interrupted(blocked, 0.2)
    assert time.monotonic() - start > 0.15  # not before its time; after it, however loaded
    assert seen == [before]
    _alarm_is_untouched()


def test_an_except_exception_in_the_call_does_not_keep_the_alarm():
    def swallowing():
        try:
            return _blocked()
        except Exception:  # noqa: BLE001 - what a library might do
            return "swallowed"

    with pytest.raises(DeadlineExceeded):
        interrupted(swallowing, 0.2)
    _alarm_is_untouched()


def test_off_the_main_thread_a_thread_bounds_the_call():
    outcome = []

    def worker():
        try:
            interrupted(_blocked, 0.2)
        except DeadlineExceeded:
            outcome.append("deadline")

    runner = threading.Thread(target=worker)
    runner.start()
    runner.join(5)
    assert outcome == ["deadline"]
    _alarm_is_untouched()


def test_someone_elses_alarm_is_left_alone():
    rang = []
    signal.signal(signal.SIGALRM, lambda *_: rang.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(DeadlineExceeded):
            interrupted(_blocked, 0.2)  # a thread bounds it: their timer and handler stay
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
        time.sleep(0.5)
        assert rang == [True]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
