"""The zsh dialect."""

from authsome.shells.posix import export, home, quote, source, startup, unset

NAME = "zsh"
HOOK_FILE = "authsome.zsh"
COMPLETION_FILE = "_authsome"
STARTUP = startup(NAME)
__all__ = [
    "COMPLETION_FILE",
    "HOOK_FILE",
    "NAME",
    "STARTUP",
    "export",
    "quote",
    "source",
    "startup_file",
    "unset",
]


def startup_file(environ: dict[str, str]) -> str:
    """The file an interactive zsh reads at start-up: .zshrc in $ZDOTDIR, else in HOME."""
    return f"{environ.get('ZDOTDIR') or home(environ)}/.zshrc"
