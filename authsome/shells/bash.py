"""The bash dialect."""

from authsome.shells.posix import export, home, quote, source, unset

NAME = "bash"
HOOK_FILE = "authsome.bash"
COMPLETION_FILE = "authsome.bash"
# The start-up lines `authsome setup-shell` writes, as README's "Shell setup" shows them.
STARTUP = (
    'eval "$({authsome} completion bash)"',
    'eval "$({authsome} env{names})"',
    'eval "$({authsome} hook bash)"',
)
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
