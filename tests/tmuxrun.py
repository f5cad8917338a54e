"""A private tmux server for tests: windows that run real shells on real terminals, typed into
and read back as the user would see them."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from realparts import require

ROOT = Path(__file__).resolve().parents[1]


def readme_shell_lines() -> dict[str, list[str]]:
    """The start-up lines of README's "Shell setup" section, per shell, without comments."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Shell setup\n", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"^\*\*(\w+)\*\* \(`[^`]+`\):\n\n```\w+\n(.*?)```", section, re.S | re.M)
    lines = {}
    for shell, block in found:
        lines[shell] = [re.sub(r"\s+#.*$", "", line) for line in block.splitlines() if line]
    return lines


class Tmux:
    def __init__(self, tmp: Path, env: dict[str, str]):
        self.binary = require("tmux")
        self.socket = str(tmp / "tmux.sock")
        self.env = env

    def __call__(self, *args: str) -> str:
        out = subprocess.run(
            [self.binary, "-S", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    def start(self, windows: dict[str, str]) -> None:
        """A session "t" with one window per name, each running its command."""
        (first, command), *rest = windows.items()
        self("new-session", "-d", "-s", "t", "-x", "200", "-y", "50", "-n", first, command)
        for name, command in rest:
            self("new-window", "-t", "t", "-n", name, command)

    def kill(self) -> None:
        subprocess.run([self.binary, "-S", self.socket, "kill-server"], capture_output=True)

    def screen(self, window: str) -> str:
        return self("capture-pane", "-p", "-J", "-t", window, "-S", "-200")

    def wait_for(self, window: str, text: str, count: int = 1, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(window)
            if screen.count(text) >= count:
                return screen
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not shown in {window}; screen:\n{screen}")
            time.sleep(0.2)

    def type(self, window: str, *keys: str) -> None:
        self("send-keys", "-t", window, *keys)

    def run(self, window: str, line: str, mark: str, timeout: float = 60) -> str:
        """Type `line` and wait until it has printed `mark` once more than before."""
        before = self.screen(window).count(mark)
        self.type(window, line, "Enter")
        return self.wait_for(window, mark, before + 1, timeout)
