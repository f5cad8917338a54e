"""direnv: not a shell but a host that evaluates bash, so it has a library (`use authsome`) in
place of a prompt hook, and no completion script; its code is the bash dialect's."""

from authsome.shells.posix import export, quote, source, unset

NAME = "direnv"
HOOK_FILE = "authsome.direnv"
COMPLETION_FILE = None
STARTUP = None  # no start-up lines for `authsome setup-shell`
__all__ = ["COMPLETION_FILE", "HOOK_FILE", "NAME", "STARTUP", "export", "quote", "source", "unset"]
