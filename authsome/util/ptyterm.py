"""The outer terminal while `run` relays a child's pty: raw mode, window size, suspension.

The child's keys go through authsome unchanged (raw mode here, so Ctrl-C and Ctrl-Z reach the
child's own terminal, whose line discipline turns them into signals for the child's foreground
job). When the child stops, authsome restores the terminal and stops too, so the shell's job
control sees the job stop; on `fg` it takes the terminal back and continues the child.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import termios
import tty


class OuterTerminal:
    """`keys` (our stdin, when it is a terminal) and `screen` (our stdout) around a pty."""

    def __init__(self, screen: int, keys: int | None):
        self.screen, self.keys = screen, keys
        self._saved = termios.tcgetattr(keys) if keys is not None else None

    def raw(self) -> None:
        if self.keys is not None and self._saved is not None:
            tty.setraw(self.keys, termios.TCSANOW)

    def restore(self) -> None:
        if self.keys is not None and self._saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self.keys, termios.TCSADRAIN, self._saved)

    def copy_size(self, pty_fd: int) -> None:
        """Our window's size onto the child's terminal (the kernel then sends it SIGWINCH)."""
        with contextlib.suppress(OSError):
            size = fcntl.ioctl(self.screen, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(pty_fd, termios.TIOCSWINSZ, size)

    def suspend(self, pty_fd: int, child: int) -> None:
        """Stop, the terminal as it was (the child stopped, or we were told to); once
        continued, take the terminal back and continue the child (0: none stopped)."""
        self.restore()
        os.kill(os.getpid(), signal.SIGSTOP)
        self.raw()
        self.copy_size(pty_fd)
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child, signal.SIGCONT)
