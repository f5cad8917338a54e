"""The loop of `run`'s masked output: the child's output to ours through a Masker, and, under
a pty, our keyboard to the child's terminal. services/childrun.py starts the child.

One thread, one poll(): a read of up to 256 KiB, the Masker, one write. A piece held because
it may begin a secret is shown once its stream has been quiet for Masker.hold_time().
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import time

CHUNK = 1 << 18
# After the child ended, what its terminal still holds is read for as long as more keeps
# coming this often: a background process it left may keep the terminal open for ever.
AFTER_EXIT = 0.2


class Stream:
    """Bytes from `src` to `dst`: masked output (blocking writes), or keyboard input to the
    child's terminal (`dst` non-blocking, unwritten bytes kept in `pending`)."""

    def __init__(self, src: int, dst: int, masker=None, owned: bool = True):
        self.src, self.dst, self.masker, self.owned = src, dst, masker, owned
        self.output = masker is not None
        self.open = True
        self.pending = b""
        self.due: float | None = None  # when a held piece is shown

    def close(self) -> None:
        if self.open and self.owned:
            with contextlib.suppress(OSError):
                os.close(self.src)
        self.open = False


class Relay:
    """Copies its streams until every output stream ended; `wake` is the read end of the signal
    wake-up pipe, `on_wake()` is called when a signal arrived."""

    def __init__(self, wake: int | None = None, on_wake=None):
        self.streams: list[Stream] = []
        self.wake, self.on_wake = wake, on_wake
        self.exited = False  # set by on_wake: the child ended; stop soon after it went quiet

    def add(self, src: int, dst: int, masker=None, owned: bool = True) -> None:
        self.streams.append(Stream(src, dst, masker, owned))

    def run(self) -> None:
        try:
            while any(s.open and s.output for s in self.streams):
                if not self._step() and self.exited:
                    break
        finally:
            for s in self.streams:
                if s.open and s.output:
                    self._show(s, s.masker.flush())
                s.close()

    def _step(self) -> bool:
        """One poll and what it found; False when it timed out with nothing to do."""
        poll, now = select.poll(), time.monotonic()
        for s in self.streams:
            if s.open:
                poll.register(*((s.dst, select.POLLOUT) if s.pending else (s.src, select.POLLIN)))
        if self.wake is not None:
            poll.register(self.wake, select.POLLIN)
        dues = [s.due for s in self.streams if s.due is not None]
        timeout = max(0.0, min(dues) - now) if dues else None
        if self.exited:
            timeout = AFTER_EXIT if timeout is None else min(timeout, AFTER_EXIT)
        ready = dict(poll.poll(None if timeout is None else timeout * 1000))
        if self.wake is not None and self.wake in ready:
            _drain(self.wake)
            self.on_wake()
        for s in self.streams:
            if s.open and s.pending and s.dst in ready:
                self._send(s, s.pending)
            elif s.open and not s.pending and s.src in ready:
                self._read(s)
        self._show_due(time.monotonic())
        return bool(ready)

    def _read(self, s: Stream) -> None:
        try:
            data = os.read(s.src, CHUNK)
        except BlockingIOError:
            return
        except OSError as e:  # EIO: the child's terminal was closed
            if e.errno != errno.EIO:
                raise
            data = b""
        if not s.output:
            if data:
                self._send(s, data)
            else:
                s.close()
            return
        if not data:
            self._show(s, s.masker.flush())
            s.close()
            return
        self._show(s, s.masker.feed(data))
        hold = s.masker.hold_time()
        s.due = None if hold is None else time.monotonic() + hold

    def _show_due(self, now: float) -> None:
        for s in self.streams:
            if s.due is not None and s.due <= now:
                s.due = None
                if s.open:
                    self._show(s, s.masker.flush())

    def _show(self, s: Stream, data: bytes) -> None:
        """Write output; if our reader is gone, close the child's end too, so the child's next
        write fails (SIGPIPE) as it would have without authsome in between."""
        try:
            while data:
                try:
                    data = data[os.write(s.dst, data) :]
                except BlockingIOError:  # someone made our stdout non-blocking
                    select.select([], [s.dst], [])
        except (BrokenPipeError, ConnectionResetError):
            s.close()

    def _send(self, s: Stream, data: bytes) -> None:
        """Keyboard input to the child's terminal, never blocking: a child that does not read
        while it writes must not stop its own output from being read."""
        try:
            s.pending = data[os.write(s.dst, data) :]
        except BlockingIOError:
            s.pending = data
        except OSError:  # the child's terminal is gone
            s.pending = b""
            s.close()


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass
