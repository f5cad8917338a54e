"""Quoting shared by the POSIX-family dialects (sh, bash, zsh)."""


def quote(value: str) -> str:
    """Single quotes keep every byte literal; a ' is closed, escaped and reopened."""
    return "'" + value.replace("'", "'\\''") + "'"


def export(name: str, value: str) -> str:
    return f"export {name}={quote(value)}"


def unset(name: str) -> str:
    return f"unset {name}"
