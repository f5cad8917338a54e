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
  entry stale, and it is removed. So is an entry that is not what `write` makes: whatever is
  in it cannot be opened.
- Where the folder takes no new file, the entry stays in the spare it was written into (no new
  space needed); where the spare cannot be written either, in $XDG_RUNTIME_DIR. Reading looks
  in all three, and a save found there is finished by the next command as usual.
- Files are opened without following symbolic links: one planted in the home is not written
  through.
"""

from __future__ import annotations

import os

from authsome.util import fsutil, jsonfast

RESERVE_BYTES = 64 * 1024
LINE_MAX = 4 << 20  # an entry is a few KiB; nothing longer is read
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


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

    def __init__(self, folder, runtime: str | None = None):
        self.folder = os.fspath(folder)
        self.runtime = runtime  # $XDG_RUNTIME_DIR: the place of last resort, if any

    def _name(self, key: str) -> str:
        provider, _, connection = key.partition(":")
        return f"{provider}+{connection}"  # '+' is not allowed in names: unambiguous

    def pending(self, key: str) -> str:
        return os.path.join(self.folder, f"{self._name(key)}.pending")

    def spare(self, key: str) -> str:
        return os.path.join(self.folder, f".{self._name(key)}.spare")

    def spill_folder(self) -> str | None:
        """This journal's folder in $XDG_RUNTIME_DIR; None without one (or without a journal)."""
        if not self.runtime:
            return None
        try:
            st = os.stat(self.folder)
        except OSError:
            return None  # no journal folder, so no spare: nothing was ever kept for it
        # Named by the journal folder's identity: short, and no hash to import for `token`.
        return os.path.join(self.runtime, "authsome-journal", f"{st.st_dev:x}-{st.st_ino:x}")

    def spill(self, key: str) -> str | None:
        folder = self.spill_folder()
        return os.path.join(folder, f"{self._name(key)}.pending") if folder else None

    def pending_names(self) -> list[str]:
        """The file names of the entries waiting here (spares and $XDG_RUNTIME_DIR too), sorted."""
        here = _listdir(self.folder)
        names = [n for n in here if n.endswith(".pending")]
        names += [n for n in here if n.endswith(".spare") and self._kept_in(n)]
        spill = self.spill_folder()
        names += [n for n in _listdir(spill) if n.endswith(".pending")] if spill else []
        return sorted(names)

    def _kept_in(self, spare_name: str) -> bool:
        """Whether the spare of that name holds a whole entry (not zeros, nor a torn one)."""
        key = spare_name[1:].removesuffix(".spare").replace("+", ":", 1)
        path = os.path.join(self.folder, spare_name)
        return _holds_entry(path) and _entry_at(path, key) is not None

    def waiting(self) -> list[str]:
        """The keys whose newest record waits here."""
        stems = {n.lstrip(".").rsplit(".", 1)[0] for n in self.pending_names()}
        return sorted(stem.replace("+", ":", 1) for stem in stems)

    def has(self, key: str) -> bool:
        spill = self.spill(key)
        return (
            os.path.exists(self.pending(key))
            or _holds_entry(self.spare(key))
            or (spill is not None and os.path.exists(spill))
        )

    def reserve(self, key: str, size: int) -> None:
        """Make sure a spare of `size` bytes is on disk; raises OSError (ENOSPC) otherwise."""
        size = max(size, RESERVE_BYTES)
        spare = self.spare(key)
        try:
            # lstat: a link planted here is refused below. A torn entry (a writer killed while
            # writing it) is zeroed: this runs under the refresh lock, so nobody is writing.
            if os.lstat(spare).st_size >= size and not self._torn(key):
                return
        except FileNotFoundError:
            pass
        from authsome.storage.journalfiles import write_all

        fsutil.ensure_private_dir(self.folder)
        fd = fsutil.open_own(spare, os.O_WRONLY | os.O_CREAT)
        try:
            # Written, not just sized: a sparse file would need its blocks later, on a full disk.
            write_all(fd, bytes(size), spare)
        except OSError:
            os.close(fd)
            _quietly(os.unlink, spare)
            raise
        os.close(fd)

    def _torn(self, key: str) -> bool:
        spare = self.spare(key)
        return _holds_entry(spare) and _entry_at(spare, key) is None

    def write(self, key: str, base_refresh_token: str, record_json: str, own: str | None) -> str:
        """Keep `record_json` until the store takes it; returns where (see `note`)."""
        from authsome.storage.journalfiles import keep_in_runtime, write_all
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
        try:
            fsutil.ensure_private_dir(self.folder)
            # In place, over bytes already allocated; a whole line marks a whole entry.
            fd = fsutil.open_own(spare, os.O_WRONLY | os.O_CREAT)
            try:
                write_all(fd, data, spare)
            finally:
                os.close(fd)
        except OSError as e:
            return keep_in_runtime(self.spill(key), self.runtime, data, e)
        try:
            os.replace(spare, self.pending(key))
        except OSError:
            return spare  # a folder that takes no rename: the entry is read from the spare
        fsutil.fsync_dir(self.folder)
        return self.pending(key)

    def note(self, path: str) -> str:
        """What to say of a place `write` returned that is not the usual one; else ""."""
        if path.endswith(".spare"):
            return "the journal's reserved spare file, as its folder takes no new file"
        if not path.startswith(self.folder + os.sep):
            return "$XDG_RUNTIME_DIR, as the journal cannot be written; a restart empties it"
        return ""

    def entries(self, key: str) -> list[dict]:
        """Every entry kept for `key`, wherever it is; torn or unreadable ones left out."""
        places = [self.pending(key), self.spare(key), self.spill(key)]
        found = [_entry_at(path, key) for path in places if path]
        return [entry for entry in found if entry is not None]

    def read(self, key: str) -> dict | None:
        """The entry, or None when it is torn or unreadable."""
        entries = self.entries(key)
        return entries[0] if entries else None

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
        """Remove `key`'s entries. Never fails: an entry left over (a read-only folder) names
        the record it was made from and the one it holds, so it is recognised as stale later;
        a missing one needs no removing, whatever a read-only file system says."""
        from authsome.storage.journalfiles import blank

        pending = self.pending(key)
        try:
            # The entry was written into the spare: blanked and renamed back, its space is the
            # next refresh's reservation, so a folder that is read-only by then still has one.
            blank(pending, LINE_MAX)
            os.replace(pending, self.spare(key))
        except OSError:
            _quietly(os.unlink, pending)
        spill = self.spill(key)
        if spill:
            _quietly(os.unlink, spill)
        if _holds_entry(self.spare(key)):
            _quietly(lambda spare: blank(spare, LINE_MAX), self.spare(key))


def _entry_at(path: str, key: str) -> dict | None:
    """The entry in the file at `path`, if it is one that `write` made for `key`."""
    try:
        fd = fsutil.open_own(path, os.O_RDONLY)
        with os.fdopen(fd, "rb") as f:
            doc = jsonfast.loads(f.readline(LINE_MAX))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    fields = (doc.get("base"), doc.get("blob"))
    if not all(isinstance(v, str) for v in fields) or not isinstance(doc.get("own"), str | None):
        return None
    return doc


def _holds_entry(spare: str) -> bool:
    """Whether the spare holds an entry rather than the zeros it is reserved with."""
    try:  # on every `token` of an OAuth login: one open and one read, not fsutil.open_own
        fd = os.open(spare, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return False
    try:
        return os.read(fd, 1) == b"{"
    except OSError:
        return False
    finally:
        os.close(fd)


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _quietly(action, path: str) -> None:
    """`action(path)` if it can be done (see `Journal.clear`); contextlib costs `token` 0.8 ms."""
    try:
        action(path)
    except OSError:
        return
