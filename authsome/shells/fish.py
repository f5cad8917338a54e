"""The fish dialect: in fish single quotes, only \\ and \' are escapes."""

NAME = "fish"
HOOK_FILE = "authsome.fish"
COMPLETION_FILE = "authsome.fish"


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def export(name: str, value: str) -> str:
    return f"set -gx {name} {quote(value)}"


def unset(name: str) -> str:
    return f"set -e {name}"


def source(command: str) -> str:
    """How a user runs `command`'s shell code in this shell (for hints)."""
    return f"{command} --shell fish | source"
