"""Choosing a secret store, and saying why it was chosen."""

from __future__ import annotations

from authsome.errors import StoreUnavailable
from authsome.storage.base import Store, label_for, make_key, split_key
from authsome.util.record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.storage.keychain.probe import ProbeResult
    from authsome.util.record import DEFAULT

__all__ = ["Store", "StoreChoice", "choose_store", "label_for", "make_key", "split_key"]


class StoreChoice(Record):
    """The store in use, how it was chosen ('env', 'config', 'probe') and why."""

    __slots__ = ("store", "source", "reason", "probe")
    _defaults = {"probe": None}

    if TYPE_CHECKING:
        store: Store
        source: str
        reason: str
        probe: ProbeResult | None = DEFAULT

    @property
    def fallback(self) -> bool:
        """True when the file store is used because no keychain was usable."""
        return self.source == "probe" and self.store.name == "file"

    def where(self) -> str:
        """The sentence that tells a person where a secret just went."""
        if self.fallback:
            return f"No desktop keychain ({self.reason}): stored in {self.store.describe()}"
        if self.source in ("env", "config"):
            return f"Stored in {self.store.describe()} ({self.reason})"
        return f"Stored in {self.store.describe()}"


def choose_store(backend, environ, make_file_store, probe=None, make_vault=None) -> StoreChoice:
    """Env/config choice first, else the keychain when the probe finds one, else the file."""
    # `backend` is a settings.Resolved; `make_file_store` and `make_vault` build those stores
    # lazily. The shared vault store is only ever chosen by name, never by a probe.
    if backend.value == "file":
        return StoreChoice(make_file_store(), backend.source, _named(backend))
    if backend.value == "vault":
        return StoreChoice(make_vault(), backend.source, _named(backend))
    from authsome.storage import keychain

    if backend.value == "keychain":
        result = (probe or keychain.probe)(environ)
        if not result.usable:
            raise StoreUnavailable(
                f"{_named(backend)} asks for the keychain, but {result.detail}",
                result.fix or "start a keyring (Secret Service), or use AUTHSOME_BACKEND=file",
            )
        return StoreChoice(keychain.KeychainStore(environ), backend.source, _named(backend), result)
    result = (probe or keychain.probe)(environ)
    if result.usable:
        return StoreChoice(keychain.KeychainStore(environ), "probe", result.detail, result)
    return StoreChoice(make_file_store(), "probe", result.detail, result)


def _named(backend) -> str:
    if backend.source == "env":
        return f"AUTHSOME_BACKEND={backend.value}"
    return f"backend={backend.value} in config.json"
