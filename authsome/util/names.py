"""The rules for provider and connection names: what a name may be (lowercase, short, safe in a
file name and a shell word, never mistaken for an option), and how a connection is shown."""

import os
import re

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def provider_files(folder) -> set[str]:
    """The provider names of the NAME.json files in `folder`; none when it cannot be listed."""
    try:
        files = os.listdir(folder)
    except OSError:
        return set()
    return {f[:-5] for f in files if f.endswith(".json") and NAME_RE.match(f[:-5])}


def display_ref(provider: str, connection: str) -> str:
    """'github' for the default connection, else 'github:work'."""
    return provider if connection == "default" else f"{provider}:{connection}"
