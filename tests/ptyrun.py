"""Run a command on a real pseudo-terminal, answer its prompts, and record what it showed."""

from __future__ import annotations

import os
import pty
import select
import signal
import time


class PtyProcess:
    def __init__(self, argv: list[str], env: dict[str, str]):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the pty is its controlling terminal
            # Ctrl-C (`interrupt`) must reach it even when the suite runs as a background job,
            # which ignores SIGINT.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execvpe(argv[0], argv, env)  # noqa: S606
        self.screen = b""
        self._seen = 0  # where expect_next starts looking

    def expect(self, text: bytes, timeout: float = 30, start: int = 0) -> None:
        """Wait until `text` is on the screen (at or after `start`)."""
        deadline = time.monotonic() + timeout
        while self.screen.find(text, start) < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{text!r} not shown; screen so far: {self.screen!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise EOFError(f"{text!r} not shown; screen: {self.screen!r}")
                self.screen += chunk

    def expect_next(self, text: bytes, timeout: float = 30) -> None:
        """Wait for `text` after what the last expect_next matched: a prompt shown again."""
        self.expect(text, timeout, self._seen)
        self._seen = self.screen.find(text, self._seen) + len(text)

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def interrupt(self) -> None:
        os.kill(self.pid, signal.SIGINT)

    def alive(self) -> bool:
        """True while the process has not exited."""
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def close(self) -> None:
        """Kill the process and reap it."""
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.05)
                if ready:
                    chunk = os.read(self.fd, 4096)
                    self.screen += chunk
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise TimeoutError(f"process did not exit; screen: {self.screen!r}")
