"""OpenBao or HashiCorp Vault as a store shared by many machines: KV v2 with compare-and-set.

The layout under the KV v2 mount (default `secret`) and prefix (default `authsome`):
- `<prefix>/<provider>/<connection>`: a connection's record, as `{"record": "<JSON>"}`;
- `<prefix>/.index`: the listing (the metadata index, no secret), updated with compare-and-set;
- `<prefix>/.locks/<provider>/<connection>`: the refresh lock (lock.py), which keeps a refresh
  to one process of all the machines.
Names never start with a dot, so they cannot collide with the last two.
"""

from __future__ import annotations

import os

from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.storage.vault.index import VaultIndex
    from authsome.storage.vault.store import VaultStore


class SharedVault(Frozen):
    """The vault store and the listing it keeps beside the records."""

    __slots__ = ("store", "index")

    if TYPE_CHECKING:
        store: VaultStore
        index: VaultIndex


def open_vault(environ: dict[str, str], config: dict, home, deadline: float, warn=None):
    """The vault store as configured (a SharedVault); nothing is sent to the server yet.

    `warn` is told when the address is plain http to another machine (doctor: a problem)."""
    from authsome.storage.vault.client import VaultClient
    from authsome.storage.vault.config import cleartext_host, cleartext_warning, resolve
    from authsome.storage.vault.index import VaultIndex
    from authsome.storage.vault.store import VaultStore

    settings = resolve(environ, config, home.config_file)
    host = cleartext_host(settings.addr)
    if host and warn is not None:
        warn(f"authsome: warning: {cleartext_warning(settings.addr, host)}.")
    client = VaultClient(settings, deadline)
    local_copy = os.path.join(home.path, "vault-index.json")
    index = VaultIndex(client, local_copy, home.lock_path("vault-index"))
    return SharedVault(VaultStore(client), index)
