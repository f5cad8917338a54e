"""The sh dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "sh"
HOOK_FILE = None
COMPLETION_FILE = None
__all__ = ["COMPLETION_FILE", "HOOK_FILE", "NAME", "export", "quote", "source", "unset"]
