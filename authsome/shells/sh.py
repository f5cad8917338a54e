"""The sh dialect."""

from authsome.shells.posix import export, quote, unset

NAME = "sh"
__all__ = ["NAME", "export", "quote", "unset"]
