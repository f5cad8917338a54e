"""The protocol every secret store implements, and the record-key convention."""

from __future__ import annotations


class Store:
    """The protocol of every store (memory, file, keychain), which implement all of it.

    Secrets by key: get/set/delete/list. Keys are '<provider>:<connection>'.
    """

    name: str

    def describe(self) -> str:
        """Where secrets go, for people: 'the Secret Service keychain', ..."""

    def prepare(self) -> None:
        """Unlock or create the store now, before a login asks anyone for anything."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> bool:
        """Remove `key`; False when it was not there."""

    def list(self) -> list[str]: ...


def make_key(provider: str, connection: str) -> str:
    return f"{provider}:{connection}"


def split_key(key: str) -> tuple[str, str]:
    provider, _, connection = key.partition(":")
    return provider, connection or "default"


def label_for(key: str) -> str:
    """The human label of a keychain item: 'authsome: github (default)'."""
    provider, connection = split_key(key)
    return f"authsome: {provider} ({connection})"
