"""The bash dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "bash"
HOOK_FILE = "authsome.bash"
COMPLETION_FILE = "authsome.bash"
__all__ = ["COMPLETION_FILE", "HOOK_FILE", "NAME", "export", "quote", "source", "unset"]
