"""The vault store: connection records in OpenBao/Vault KV v2, every rewrite a compare-and-set."""

from __future__ import annotations

from authsome.storage.base import Store, split_key
from authsome.util.names import is_name

RECORD = "record"


def path_of(key: str) -> str:
    """'github:work' -> 'github/work' under the prefix."""
    provider, connection = split_key(key)
    return f"{provider}/{connection}"


def _stored_name(name: str) -> bool:
    """A connection's name, or a registered client's ("@client", storage/registrations.py)."""
    return is_name(name[1:] if name.startswith("@") else name)


class VaultStore(Store):
    """Secrets by key in KV v2. A key read here is rewritten only if nobody changed it since."""

    name = "vault"
    shared = True  # other machines use the same records: refresh takes the lock in Vault too

    def __init__(self, client):
        self.client = client
        # The version each key had when this process read it: the next write of that key is a
        # compare-and-set against it, so a record that another machine rewrote in between (a
        # refresh that rotated its tokens) is never overwritten with stale ones.
        self._versions: dict[str, int] = {}

    def describe(self) -> str:
        s = self.client.settings
        return f"OpenBao/Vault at {s.addr} ({s.mount}/{s.prefix})"

    def prepare(self) -> None:
        self.client.check_kv2()

    def get(self, key: str) -> str | None:
        data, version = self.client.read(path_of(key))
        self._versions[key] = version
        value = (data or {}).get(RECORD)
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        self._versions[key] = self.client.write(
            path_of(key), {RECORD: value}, cas=self._versions.get(key)
        )

    def delete(self, key: str) -> bool:
        self._versions.pop(key, None)
        return self.client.delete(path_of(key))

    def list(self) -> list[str]:
        # Only names authsome could have written: the index and the locks start with a dot,
        # and a name that breaks the name rule (an escape sequence, say) is no login of ours.
        keys: list[str] = []
        for folder in self.client.list(""):
            provider = folder[:-1]
            if not folder.endswith("/") or not is_name(provider):
                continue
            keys.extend(
                f"{provider}:{name}" for name in self.client.list(folder) if _stored_name(name)
            )
        return sorted(keys)

    def refresh_lock(self, key: str, settled, marks):
        """The lock in Vault at .locks/<provider>/<connection> (vault/lock.py)."""
        from authsome.storage.vault.lock import VaultLock

        return VaultLock(self.client, path_of(key), settled, marks=marks)

    def status(self) -> dict:
        from authsome.storage.vault.status import status

        return status(self)
