"""The zsh dialect."""

from authsome.shells.posix import export, home, quote, source, unset

NAME = "zsh"
HOOK_FILE = "authsome.zsh"
COMPLETION_FILE = "_authsome"
# The start-up lines `authsome setup-shell` writes, as README's "Shell setup" shows them.
STARTUP = (
    'eval "$({authsome} completion zsh)"',
    'eval "$({authsome} env{names})"',
    'eval "$({authsome} hook zsh)"',
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
    """The file an interactive zsh reads at start-up: .zshrc in $ZDOTDIR, else in HOME."""
    return f"{environ.get('ZDOTDIR') or home(environ)}/.zshrc"
