"""The zsh dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "zsh"
__all__ = ["NAME", "export", "quote", "source", "unset"]
