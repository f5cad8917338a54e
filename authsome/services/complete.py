"""The names offered at Tab: provider names, and the connections logged in.

Completion never shows an error: anything that fails offers nothing.
"""

from __future__ import annotations

import os

from authsome.storage.home import INDEX_FILE, PROVIDERS_DIR, home_dir
from authsome.storage.index import Index
from authsome.util.names import display_ref, provider_files
from authsome.util.resources import data_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


class TabContext:
    """What Tab reads of a home -- the index, and the names of the provider files -- found
    without the factory, whose imports (settings, pathlib, json's encoder) would be half of
    Tab's time. Read-only. tests/test_completion.py holds its answers to click's, which come
    through the factory."""

    def __init__(self, environ):
        home = home_dir(environ)
        self.index = Index(os.path.join(home, INDEX_FILE))
        self.registry = self  # all Tab asks a registry for is names()
        self._user_providers = os.path.join(home, PROVIDERS_DIR)

    @staticmethod
    def suits(environ) -> bool:
        """False for the vault store, whose listing is in Vault: the factory's index serves
        Tab there (from a recent local copy, storage/vault/index.py). This is
        settings.resolve_backend's rule without pathlib; tests/test_completion.py holds the two
        to one answer."""
        chosen = environ.get("AUTHSOME_BACKEND")
        if chosen and chosen.strip().lower() != "vault":
            return True  # another store, or a name the factory refuses
        try:
            with open(os.path.join(home_dir(environ), "config.json"), "rb") as f:
                import json

                # Decoded as settings.load_config does: json.load would also take UTF-16/BOMs.
                config = json.loads(f.read().decode())
        except FileNotFoundError:
            config = {}
        except (OSError, ValueError, RecursionError):
            return True  # one the factory refuses, even with the variable set: not Tab's to say
        if not isinstance(config, dict):
            return True
        return not chosen and config.get("backend") != "vault"

    def names(self) -> list[str]:
        """As Registry.names: the bundled and the user's provider files."""
        return sorted(provider_files(data_path("providers")) | provider_files(self._user_providers))


def provider_names(ctx: Context, incomplete: str) -> list[str]:
    try:
        names = ctx.registry.names()
    except Exception:  # noqa: BLE001 - completion never shows an error
        return []
    return [n for n in names if n.startswith(incomplete)]


def connected_refs(ctx: Context, incomplete: str) -> list[str]:
    """'github', 'github:work', ... from the metadata index: no secret store is opened."""
    try:
        entries = ctx.index.cached()
    except Exception:  # noqa: BLE001
        return []
    refs = {display_ref(e["provider"], e["connection"]) for e in entries.values()}  # checked
    return [r for r in sorted(refs) if r.startswith(incomplete)]
