"""The fish dialect: in fish single quotes, only \\ and \' are escapes."""

NAME = "fish"


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def export(name: str, value: str) -> str:
    return f"set -gx {name} {quote(value)}"


def unset(name: str) -> str:
    return f"set -e {name}"
