"""The fish dialect: in fish single quotes, only \\ and \' are escapes."""

NAME = "fish"
HOOK_FILE = "authsome.fish"
COMPLETION_FILE = "authsome.fish"
# The start-up lines `authsome setup-shell` writes, as README's "Shell setup" shows them.
STARTUP = (
    "{authsome} completion fish | source",
    "{authsome} env --shell fish{names} | source",
    "{authsome} hook fish | source",
)


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def export(name: str, value: str) -> str:
    return f"set -gx {name} {quote(value)}"


def unset(name: str) -> str:
    return f"set -e {name}"


def source(command: str) -> str:
    """How a user runs `command`'s shell code in this shell (for hints)."""
    return f"{command} --shell fish | source"


def startup_file(environ: dict[str, str]) -> str:
    """config.fish in $XDG_CONFIG_HOME/fish, else in ~/.config/fish."""
    from authsome.shells.posix import home

    config = environ.get("XDG_CONFIG_HOME") or f"{home(environ)}/.config"
    return f"{config}/fish/config.fish"
