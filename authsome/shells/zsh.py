"""The zsh dialect."""

from authsome.shells.posix import export, quote, unset

NAME = "zsh"
__all__ = ["NAME", "export", "quote", "unset"]
