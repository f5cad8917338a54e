"""The shell format: shell code in the user's dialect, with the prompt hook's bookkeeping."""

from authsome import shells

NAME = "shell"


def render(result, unsets, dialect) -> str:
    """Unsets what the last `env` exported and this one does not, then exports the rest."""
    return shells.script(dialect, {**result.values, **result.bookkeeping()}, unsets)


def warnings(values: dict[str, str]) -> list[str]:
    return []
