"""The bash dialect."""

from authsome.shells.posix import export, home, quote, source, startup, unset

NAME = "bash"
HOOK_FILE = "authsome.bash"
COMPLETION_FILE = "authsome.bash"
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
    """The file an interactive bash reads at start-up (a login bash too, through ~/.profile)."""
    return f"{home(environ)}/.bashrc"
