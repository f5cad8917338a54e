"""The sh dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "sh"
HOOK_FILE = None
COMPLETION_FILE = None
STARTUP = None  # no start-up lines for `authsome setup-shell`
__all__ = ["COMPLETION_FILE", "HOOK_FILE", "NAME", "STARTUP", "export", "quote", "source", "unset"]
