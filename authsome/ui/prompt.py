"""Asking a person: masked input on the controlling terminal, messages on stderr."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import TextIO


class Prompter:
    """Reads secrets from the terminal without echo; never from argv."""

    def __init__(self, stdin: TextIO | None = None, stderr: TextIO | None = None):
        self.stdin = stdin or sys.stdin
        self.stderr = stderr or sys.stderr

    def can_prompt(self) -> bool:
        """True when a controlling terminal can answer a prompt."""
        try:
            fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        except OSError:
            return False
        os.close(fd)
        return True

    def locked(self, what: str, unlock: str):
        """The error for `what`, locked, when can_prompt() is False; `unlock` unlocks it."""
        from authsome.errors import StoreUnavailable

        return StoreUnavailable(
            f"{what} is locked and there is no terminal to ask for its passphrase",
            f"run {unlock} first, or set AUTHSOME_PASSPHRASE_FILE",
        )

    def stdin_is_tty(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def secret(self, prompt: str) -> str:
        """Masked input: nothing typed is echoed."""
        import getpass

        return getpass.getpass(prompt)

    def read_line(self) -> str:
        """One line from stdin (for piped secrets), without its line ending."""
        line = self.stdin.readline()
        return line.rstrip("\r\n")


class NeverAsks(Prompter):
    """For a command that must not ask even at a terminal (env: start-up files, the hook)."""

    def can_prompt(self) -> bool:
        return False

    def locked(self, what: str, unlock: str):
        from authsome.errors import StoreUnavailable

        return StoreUnavailable(f"{what} is locked", f"run: {unlock}")
