"""Rotated tokens that could not be saved, kept encrypted until the store takes them.

A provider that rotates refresh tokens spends the old one when it answers. If the store then
refuses the new record (a full disk, a stalled keychain), the record goes here instead, and
the next command that loads the connection finishes the save.

- Space is reserved before the refresh request is sent (`reserve`), so a full disk stops the
  refresh while the old refresh token is still good, instead of after it was spent.
- An entry is sealed (AES-256-GCM) under a key hashed from the refresh token of the record the
  store holds (the base), so it opens only for whoever can read that record from the store,
  and nothing secret is on disk in the clear. Refresh tokens are high-entropy server secrets,
  so a plain hash is a sound key derivation here.
- An entry names the base and its own refresh token by fingerprint: a store that already holds
  the entry's record (a stalled write that landed late), or holds a newer login, makes the
  entry stale, and it is removed.
"""

from __future__ import annotations

import os

from authsome.util import fsutil, jsonfast

RESERVE_BYTES = 64 * 1024


def fingerprint(refresh_token: str) -> str:
    import hashlib  # not at the top: `token` and `env` load this module but rarely need it

    return hashlib.sha256(b"authsome-journal-fp/1\0" + refresh_token.encode()).hexdigest()[:32]


def _key(refresh_token: str) -> bytes:
    import hashlib

    return hashlib.sha256(b"authsome-journal-key/1\0" + refresh_token.encode()).digest()


def _aad(key: str) -> bytes:
    return f"authsome-journal/1\0{key}".encode()


class Journal:
    """One pending file per connection in <home>/journal, each with a reserved spare."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)

    def _name(self, key: str) -> str:
        provider, _, connection = key.partition(":")
        return f"{provider}+{connection}"  # '+' is not allowed in names: unambiguous

    def pending(self, key: str) -> str:
        return os.path.join(self.folder, f"{self._name(key)}.pending")

    def spare(self, key: str) -> str:
        return os.path.join(self.folder, f".{self._name(key)}.spare")

    def pending_names(self) -> list[str]:
        """The file names of the entries waiting here, sorted."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(".pending"))

    def waiting(self) -> list[str]:
        """The keys whose newest record waits here."""
        return [n.removesuffix(".pending").replace("+", ":", 1) for n in self.pending_names()]

    def has(self, key: str) -> bool:
        return os.path.exists(self.pending(key))

    def reserve(self, key: str, size: int) -> None:
        """Make sure a spare of `size` bytes is on disk; raises OSError (ENOSPC) otherwise."""
        size = max(size, RESERVE_BYTES)
        spare = self.spare(key)
        try:
            if os.stat(spare).st_size >= size:
                return
        except FileNotFoundError:
            pass
        fsutil.ensure_private_dir(self.folder)
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT, fsutil.FILE_MODE)
        try:
            # Written, not just sized: a sparse file would need its blocks later, on a full disk.
            os.write(fd, bytes(size))
            os.fsync(fd)
        except OSError:
            os.close(fd)
            _unlink(spare)
            raise
        os.close(fd)

    def write(self, key: str, base_refresh_token: str, record_json: str, own: str | None) -> str:
        """Keep `record_json` until the store takes it; written into the reserved spare."""
        from authsome.util import crypto  # here: the keychain's `token` never needs it

        blob = crypto.seal(_key(base_refresh_token), record_json.encode(), _aad(key))
        doc = {
            "key": key,
            "base": fingerprint(base_refresh_token),
            "own": fingerprint(own) if own else None,
            "blob": crypto.b64e(blob),
        }
        data = (jsonfast.dumps(doc) + "\n").encode()
        spare = self.spare(key)
        fsutil.ensure_private_dir(self.folder)
        # In place, over bytes already allocated; a whole line marks a whole entry.
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT, fsutil.FILE_MODE)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(spare, self.pending(key))
        fsutil.fsync_dir(self.folder)
        return self.pending(key)

    def read(self, key: str) -> dict | None:
        """The entry, or None when it is torn or unreadable."""
        try:
            with open(self.pending(key), "rb") as f:
                line = f.readline(4 << 20)
            doc = jsonfast.loads(line)
            if not isinstance(doc, dict) or doc.get("key") != key:
                return None
            return doc
        except (OSError, ValueError, RecursionError):
            return None

    def open(self, entry: dict, base_refresh_token: str) -> str | None:
        """The record in `entry`, if `base_refresh_token` is its base; else None."""
        if entry.get("base") != fingerprint(base_refresh_token):
            return None
        from authsome.util import crypto

        try:
            blob = crypto.b64d(entry["blob"])
            plain = crypto.unseal(_key(base_refresh_token), blob, _aad(entry["key"]))
            return plain.decode("utf-8")
        except (crypto.DecryptionFailed, KeyError, TypeError, ValueError, UnicodeDecodeError):
            return None

    def clear(self, key: str) -> None:
        _unlink(self.pending(key))


def _unlink(path: str) -> None:
    import contextlib  # here: token and env load this module, and seldom remove anything

    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
