"""The rules for provider and connection names: what a name may be (lowercase, short, safe in a
file name and a shell word, never mistaken for an option), and how a connection is shown."""

import os

_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_REST = _FIRST | frozenset("_.-")


def is_name(text) -> bool:
    """A valid name: 1 to 64 of a-z, 0-9, '_', '.', '-', the first a letter or a digit.

    (The regex ^[a-z0-9][a-z0-9_.-]{0,63}$, less the final newline its $ let through, checked
    without compiling it: Tab, token and env would each pay for the compile.)"""
    return (
        isinstance(text, str)
        and 0 < len(text) <= 64
        and text[0] in _FIRST
        and _REST.issuperset(text)
    )


def provider_files(folder) -> set[str]:
    """The provider names of the NAME.json files in `folder`; none when it cannot be listed."""
    try:
        files = os.listdir(folder)
    except OSError:
        return set()
    return {f[:-5] for f in files if f.endswith(".json") and is_name(f[:-5])}


def display_ref(provider: str, connection: str) -> str:
    """'github' for the default connection, else 'github:work'."""
    return provider if connection == "default" else f"{provider}:{connection}"
