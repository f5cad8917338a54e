"""The encrypted vault file: AES-256-GCM records under a scrypt-derived key."""

from __future__ import annotations

import os

from authsome.errors import AuthsomeError, CorruptData
from authsome.storage.base import Store, Unlocked
from authsome.util import crypto, fsutil, jsonfast
from authsome.util.record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT

VAULT_FORMAT = "authsome-vault"
VAULT_VERSION = 1
CHECK_PLAINTEXT = b"authsome vault key check"


class KeySource:
    """What the file store needs from its caller: keys and sessions (see sessions.Unlocker)."""

    def session_key(self, vault: str, salt: bytes) -> bytes | None:
        """The vault key of an unlocked session, if there is one."""
        raise NotImplementedError

    def passphrase(self, vault: str, new: bool) -> str:
        raise NotImplementedError

    def passphrase_key(self, vault: str, derive, verify) -> bytes:  # else BadPassphrase
        raise NotImplementedError

    def start_session(self, vault: str, salt: bytes, vault_key: bytes, ttl: int) -> Unlocked:
        raise NotImplementedError

    def end_sessions(self, vault: str) -> tuple[bool, bool]:
        raise NotImplementedError

    def session_status(self, vault: str, salt: bytes, verify) -> dict:
        raise NotImplementedError


def _aad(kind: str, name: str = "") -> bytes:
    # What each ciphertext is for, authenticated (not encrypted) with it. Record names sit in
    # the clear, so that listing needs no key; the name in the AAD stops someone who can write
    # the file from swapping ciphertexts between names (work's token served as personal's).
    # The kind keeps the key-check blob from passing as a record and back; the format and
    # version keep a blob from being read under another layout.
    return f"{VAULT_FORMAT}/{VAULT_VERSION}\0{kind}\0{name}".encode()


# The only key-derivation settings a vault may name. A header is not trusted to choose them:
# a flipped bit could ask for 4 GiB of memory (n = 2^22) before failing.
KNOWN_KDF = ({"name": "scrypt", **crypto.SCRYPT_PARAMS},)


def header_digest(kdf: dict, salt: bytes, check: bytes) -> str:
    """A checksum of what derives and checks the key."""
    # Without it, damage to the salt or the check blob is indistinguishable from a wrong
    # passphrase: both just fail the check. It guards against accidents, not attackers, who
    # could recompute it; the AEAD tags are what stop tampering.
    text = jsonfast.dumps({"kdf": kdf, "salt": crypto.b64e(salt), "check": crypto.b64e(check)})
    return crypto.sha256_hex(text.encode())


class VaultDoc(Record):
    __slots__ = ("kdf", "salt", "check", "records")
    _defaults = {"records": dict}

    if TYPE_CHECKING:
        kdf: dict
        salt: bytes
        check: bytes
        records: dict[str, bytes] = DEFAULT

    def to_bytes(self) -> bytes:
        doc = {
            "format": VAULT_FORMAT,
            "version": VAULT_VERSION,
            "kdf": {**self.kdf, "salt": crypto.b64e(self.salt)},
            "check": crypto.b64e(self.check),
            "header_sha256": header_digest(self.kdf, self.salt, self.check),
            "records": {k: crypto.b64e(v) for k, v in sorted(self.records.items())},
        }
        import json  # here: writes only

        return (json.dumps(doc, indent=1) + "\n").encode()


def _corrupt(path: str) -> CorruptData:
    return CorruptData(
        f"the encrypted file {path} is damaged (corrupted or tampered)",
        "restore it from a backup, or move it aside and log in again",
    )


def parse_vault(path: str, raw: bytes) -> VaultDoc:
    """Check a vault file's structure (not its cryptography)."""
    try:
        doc = jsonfast.loads(raw)
        if doc.get("format") != VAULT_FORMAT:
            raise ValueError
        version = doc.get("version")
        if isinstance(version, int) and version != VAULT_VERSION:
            raise CorruptData(
                f"the encrypted file {path} has format version {doc.get('version')!r},"
                " which this authsome does not know",
                "upgrade authsome",
            )
        if version != VAULT_VERSION:
            raise ValueError
        kdf = dict(doc["kdf"])
        salt = crypto.b64d(kdf.pop("salt"))
        check = crypto.b64d(doc["check"])
        if kdf not in KNOWN_KDF or len(salt) != crypto.SALT_BYTES:
            raise ValueError
        digest = doc.get("header_sha256")  # absent in vaults written before it existed
        if digest is not None and digest != header_digest(kdf, salt, check):
            raise ValueError
        records = {str(k): crypto.b64d(v) for k, v in doc["records"].items()}
        return VaultDoc(kdf=kdf, salt=salt, check=check, records=records)
    except CorruptData:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise _corrupt(path) from None


class FileStore(Store):
    """Secrets in one encrypted file; writes are atomic and serialised by a lock."""

    name = "file"
    lists_cheaply = True  # record names are in the clear: no key needed to list them
    can_unlock = True

    def __init__(self, path: str, lock_path: str, keys):
        # `keys` is a KeySource, or a function that makes one when first needed: `list` reads
        # the record names alone, and skips importing the sessions.
        self.path = path
        self.lock_path = lock_path
        self._keys = keys
        self._key: bytes | None = None
        self._key_salt: bytes | None = None
        self._cached: tuple | None = None  # (stat signature, VaultDoc)

    @property
    def keys(self) -> KeySource:
        if not isinstance(self._keys, KeySource) and callable(self._keys):
            self._keys = self._keys()
        return self._keys

    def describe(self) -> str:
        return f"the encrypted file {self.path}"

    # -- reading ---------------------------------------------------------------
    def read(self, fresh: bool = False) -> VaultDoc | None:
        """The vault as it is on disk, or None when there is none yet."""
        # Parsed once per version of the file: `env` over a thousand connections reads it a
        # thousand times. Writers replace the file by rename, so a new version has a new inode.
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                signature = (st.st_ino, st.st_size, st.st_mtime_ns)
                if not fresh and self._cached is not None and self._cached[0] == signature:
                    return self._cached[1]
                raw = f.read()
        except FileNotFoundError:
            return None
        doc = parse_vault(self.path, raw)
        self._cached = (signature, doc)
        return doc

    def prepare(self) -> None:
        doc = self.read()
        self.key_for(doc if doc is not None else self.create())

    def get(self, key: str) -> str | None:
        doc = self.read()
        if doc is None or key not in doc.records:
            return None
        vault_key = self.key_for(doc)
        try:
            return crypto.unseal(vault_key, doc.records[key], _aad("record", key)).decode("utf-8")
        except (crypto.DecryptionFailed, UnicodeDecodeError):
            raise _corrupt(self.path) from None

    def list(self) -> list[str]:
        doc = self.read()
        return sorted(doc.records) if doc else []

    # -- writing ---------------------------------------------------------------
    def set(self, key: str, value: str) -> None:
        self._update(lambda doc, k: doc.records.__setitem__(key, self._seal(k, key, value)))

    def delete(self, key: str) -> bool:
        doc = self.read()
        if doc is None or key not in doc.records:
            return False
        found = []
        self._update(lambda d, k: found.append(d.records.pop(key, None) is not None))
        return found[0]

    def _seal(self, vault_key: bytes, key: str, value: str) -> bytes:
        return crypto.seal(vault_key, value.encode("utf-8"), _aad("record", key))

    def _update(self, change) -> None:
        before = self.read()
        if before is not None:
            self.key_for(before)  # derive (or prompt) before taking the lock
        fsutil.ensure_private_dir(os.path.dirname(os.fspath(self.path)))
        from authsome.util.locking import file_lock  # writes only: token and list never lock

        with file_lock(self.lock_path):
            fsutil.remove_stale_temps(self.path)
            doc = self.read(fresh=True)
            if doc is None:
                doc = self._new_doc()
            vault_key = self.key_for(doc)
            self._check_records(doc, vault_key)  # never rewrite a damaged vault
            self._cached = None  # `change` edits the doc in place
            change(doc, vault_key)
            fsutil.atomic_write(self.path, doc.to_bytes())

    def _check_records(self, doc: VaultDoc, vault_key: bytes) -> None:
        for name, blob in doc.records.items():
            try:
                crypto.unseal(vault_key, blob, _aad("record", name))
            except crypto.DecryptionFailed:
                raise _corrupt(self.path) from None

    # -- unlock, lock and status ------------------------------------------------
    def unlock(self, ttl: int, say) -> Unlocked:
        doc = self.read()
        if doc is None:
            say(f"Creating the encrypted file {self.path}.")
            doc = self.create()
        return self.keys.start_session(self.path, doc.salt, self.key_for(doc), ttl)

    def lock(self) -> tuple[bool, bool]:
        return self.keys.end_sessions(self.path)

    def status(self) -> dict:
        """The vault's path, records and key derivation, and whether a session unlocks it."""
        info: dict = {"path": str(self.path), "exists": os.path.exists(self.path)}
        try:
            doc = self.read()
        except AuthsomeError as e:
            return {**info, "error": str(e)}
        if doc is None:
            return info
        info["records"] = len(doc.records)
        info["kdf"] = {k: doc.kdf[k] for k in ("name", "n", "r", "p")}
        return {**info, **self.keys.session_status(self.path, doc.salt, self._verifier(doc))}

    def _verifier(self, doc: VaultDoc):
        return lambda key: self.verify(doc, key)

    # -- keys ------------------------------------------------------------------
    def _new_doc(self) -> VaultDoc:
        passphrase = self.keys.passphrase(self.path, new=True)
        salt = crypto.random_bytes(crypto.SALT_BYTES)
        kdf = {"name": "scrypt", **crypto.SCRYPT_PARAMS}
        key = crypto.derive_key(passphrase, salt, **crypto.SCRYPT_PARAMS)
        self._key, self._key_salt = key, salt
        return VaultDoc(kdf=kdf, salt=salt, check=crypto.seal(key, CHECK_PLAINTEXT, _aad("check")))

    def create(self) -> VaultDoc:
        """Create an empty vault (asking for a new passphrase) unless one exists."""
        fsutil.ensure_private_dir(os.path.dirname(os.fspath(self.path)))
        from authsome.util.locking import file_lock

        with file_lock(self.lock_path):
            doc = self.read()
            if doc is None:
                doc = self._new_doc()
                fsutil.atomic_write(self.path, doc.to_bytes())
        return doc

    def verify(self, doc: VaultDoc, key: bytes) -> bool:
        try:
            return crypto.unseal(key, doc.check, _aad("check")) == CHECK_PLAINTEXT
        except crypto.DecryptionFailed:
            return False

    def key_for(self, doc: VaultDoc) -> bytes:
        """The vault key for `doc`: cached, from the session, or derived from the passphrase."""
        if self._key is not None and self._key_salt == doc.salt:
            return self._key
        key = self.keys.session_key(self.path, doc.salt)
        if key is None or not self.verify(doc, key):
            params = {k: doc.kdf[k] for k in "nrp"}
            derive = lambda passphrase: crypto.derive_key(passphrase, doc.salt, **params)  # noqa: E731
            key = self.keys.passphrase_key(self.path, derive, lambda k: self.verify(doc, k))
        self._key, self._key_salt = key, doc.salt
        return key
