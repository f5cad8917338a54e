"""Quoting shared by the POSIX-family dialects (sh, bash, zsh)."""


def quote(value: str) -> str:
    """Single quotes keep every byte literal; a ' is closed, escaped and reopened."""
    return "'" + value.replace("'", "'\\''") + "'"


def export(name: str, value: str) -> str:
    return f"export {name}={quote(value)}"


def unset(name: str) -> str:
    return f"unset {name}"


def source(command: str) -> str:
    """How a user runs `command`'s shell code in this shell (for hints)."""
    return f'eval "$({command})"'


def home(environ: dict[str, str]) -> str:
    """The user's home folder, for the start-up files."""
    import os

    return environ.get("HOME") or os.path.expanduser("~")


def startup(shell: str) -> tuple[str, ...]:
    """The start-up lines `authsome setup-shell` writes for bash or zsh, as README's "Shell
    setup" shows them ({authsome}: its path; {names}: the env command's names)."""
    return (
        f'eval "$({{authsome}} completion {shell})"',
        'eval "$({authsome} env{names})"',
        f'eval "$({{authsome}} hook {shell})"',
    )
