"""The bash dialect."""

from authsome.shells.posix import export, quote, unset

NAME = "bash"
__all__ = ["NAME", "export", "quote", "unset"]
