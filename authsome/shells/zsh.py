"""The zsh dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "zsh"
HOOK_FILE = "authsome.zsh"
COMPLETION_FILE = "_authsome"
__all__ = ["COMPLETION_FILE", "HOOK_FILE", "NAME", "export", "quote", "source", "unset"]
