"""The bash dialect."""

from authsome.shells.posix import export, quote, source, unset

NAME = "bash"
__all__ = ["NAME", "export", "quote", "source", "unset"]
