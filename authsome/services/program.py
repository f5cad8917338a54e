"""The running authsome as an argv, for tools that call it back (git, kubectl)."""

from __future__ import annotations

import os
import sys


def self_argv() -> list[str]:
    """The absolute path of the running `authsome`, or this Python with `-m authsome`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "authsome" and os.path.isfile(argv0):
        return [os.path.abspath(argv0)]
    return [sys.executable, "-m", "authsome"]
