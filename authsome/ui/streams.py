"""The streams a command talks through, apart from the factory, so that tests swap them whole:
stdout for machines, stderr for people, stdin and the prompter for answers, the browser."""

from __future__ import annotations

import sys

from authsome.util.lazy import lazy


class IOStreams:
    """stdin, stdout and stderr, the prompter, and a way to open a URL."""

    def __init__(
        self,
        stdin=None,
        stdout=None,
        stderr=None,
        prompter=None,  # a ui.prompt.Prompter; imported only when asked for
        browser=None,  # url -> bool: whether a browser opened it
    ):
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._prompter = prompter
        self._browser = browser
        # False: this command never asks (env, in start-up files and at prompts, where a
        # question would stall the shell); a store that would ask says how to unlock instead.
        self.asks = True

    def say(self, message: str) -> None:
        """A line for people: always stderr, flushed at once (it may be piped to tee)."""
        from authsome.util.termtext import printable  # here: token and env mostly say nothing

        print(printable(message, multiline=True), file=self.stderr, flush=True)

    def emit(self, text: str) -> None:
        """Machine output (shell code, tokens, JSON): stdout only."""
        self.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        self.stdout.flush()

    def stdout_is_tty(self) -> bool:
        return _isatty(self.stdout)

    def status(self, line: str | None) -> bool:
        """A live status line on a terminal (rewritten in place); nothing when piped.

        True when it was shown."""
        if not _isatty(self.stderr):
            return False
        from authsome.util.termtext import printable

        self.stderr.write("\r\033[K" + printable(line or ""))
        self.stderr.flush()
        return True

    @lazy
    def prompter(self):
        from authsome.ui.prompt import NeverAsks, Prompter

        if self._prompter is not None:
            return self._prompter
        return (Prompter if self.asks else NeverAsks)(self.stdin, self.stderr)

    def open_browser(self, url: str) -> bool:
        """Open `url` in a graphical browser when there is one; False otherwise."""
        return bool(self._browser and self._browser(url))


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
