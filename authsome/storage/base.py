"""The protocol every secret store implements, and the record-key convention."""

from __future__ import annotations

from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT


class Unlocked(Frozen):
    """An unlock: until when, and this shell's token when other shells cannot share it; and the
    uid of another user's key that the shared unlock replaced (it may replace ours again)."""

    __slots__ = ("expires_at", "token", "not_shared_because", "displaced_owner")
    _defaults = {"displaced_owner": None}

    if TYPE_CHECKING:
        expires_at: int
        token: str | None
        not_shared_because: str | None
        displaced_owner: int | None = DEFAULT


class Store:
    """The protocol of every store (memory, file, keychain): secrets by key, and capabilities."""

    # Keys are '<provider>:<connection>'. A capability a store lacks has a default here that
    # says so; services ask for capabilities, never for a store by its name.

    name: str
    lists_cheaply = False  # list() needs no key, no prompt and no keychain call
    can_unlock = False  # `authsome unlock` opens it for a while (unlock/lock below)
    shared = False  # other machines use the same records (refresh_lock below)
    in_process = False  # kept in this process's memory: a helper process could not write it

    def describe(self) -> str:
        """Where secrets go, for people: 'the Secret Service keychain', ..."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Unlock or create the store now, before a login asks anyone for anything."""

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def set(self, key: str, value: str) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> bool:
        """Remove `key`; False when it was not there."""
        raise NotImplementedError

    def list(self) -> list[str]:
        raise NotImplementedError

    def unlock(self, ttl: int, say) -> Unlocked:
        """Open the store for `ttl` seconds; `say` tells people what happens first."""
        raise NotImplementedError(f"{self.describe()} needs no unlock")

    def lock(self) -> tuple[bool, bool]:
        """End the unlocks: (every shell's was ended, this shell's was ended)."""
        return False, False

    def status(self) -> dict:
        """What `authsome doctor` reports about the store itself, as plain data."""
        return {}

    def refresh_lock(self, key: str, settled, marks):
        """A lock on refreshing `key` that other machines honour too; by default none (the
        per-machine file lock in services/refresh.py is enough for a store on one machine).
        `settled()` says whether waiting can stop because the refresh is no longer needed;
        `marks` (storage/pending.py) writes and reads the marker of a refresh in flight, which
        only a store that other machines share has use for."""
        return NoSharedLock()


SAVE_BUDGET = 5.0  # seconds: Connections.commit's default


class NoSharedLock:
    """The refresh lock of a store that no other machine uses: nothing to take or wait for."""

    failure = None  # what failed in a refresh we waited for (see vault/lock.py)
    held = True  # the file lock around it is all there is to hold
    pending = None  # no other machine can hold newer tokens

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def fail(self, doc: dict) -> None:
        """Nothing to tell: the waiters on this machine read the failure beside the file lock."""

    def save_budget(self) -> float:
        """How long to keep retrying the save of refreshed tokens before journalling them."""
        return SAVE_BUDGET

    def spend(self, base_refresh_token: str) -> None:
        """No marker: no other machine could send the same refresh token."""

    def keep_marker(self) -> None:
        """No marker to keep."""


def make_key(provider: str, connection: str) -> str:
    return f"{provider}:{connection}"


def split_key(key: str) -> tuple[str, str]:
    provider, _, connection = key.partition(":")
    return provider, connection or "default"


def label_for(key: str) -> str:
    """The human label of a keychain item: 'authsome: github (default)'."""
    provider, connection = split_key(key)
    return f"authsome: {provider} ({connection})"
