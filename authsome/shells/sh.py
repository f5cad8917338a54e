"""The sh dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "sh"
__all__ = ["NAME", "export", "quote", "source", "unset"]
