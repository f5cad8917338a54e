"""Unlock once per login: the vault key, sealed in a session file under a session key.

The session key (the token) is kept in the kernel user keyring, which every shell of this
uid shares and no other uid can read, and which forgets it at the TTL. Where there is no
such keyring it lives in one shell's environment instead, as AUTHSOME_SESSION. Neither the
token nor the session file alone opens the vault.
"""

from __future__ import annotations

import os
import time

from authsome.errors import AuthsomeError, ConfigError
from authsome.storage.base import Unlocked
from authsome.util import crypto, fsutil, jsonfast
from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

ENV_SESSION = "AUTHSOME_SESSION"
ENV_PASSPHRASE = "AUTHSOME_PASSPHRASE"
ENV_PASSPHRASE_FILE = "AUTHSOME_PASSPHRASE_FILE"
_HEX = frozenset("0123456789abcdef")
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _split_token(token: str | None) -> tuple[str, str] | None:
    """(id, key) of a `<32 hex>.<43 URL-safe base64>[\\n]` token, else None: no regex to compile."""
    session_id, _, key_text = (token or "").removesuffix("\n").partition(".")
    ok = len(session_id) == 32 and len(key_text) == 43 and _HEX.issuperset(session_id)
    return (session_id, key_text) if ok and _URLSAFE.issuperset(key_text) else None


def _aad(session_id: str, vault: str, salt: bytes, expires_at: int) -> bytes:
    # The session file's clear fields are authenticated with the sealed vault key: editing
    # expires_at does not extend a session; a blob copied to another session id or pointed at
    # another vault does not open; and a vault made anew (a new salt) ends every old session.
    return f"authsome-session/1\0{session_id}\0{vault}\0{crypto.b64e(salt)}\0{expires_at}".encode()


class Session(Frozen):
    __slots__ = ("session_id", "token", "expires_at")

    if TYPE_CHECKING:
        session_id: str
        token: str
        expires_at: int


class Sessions:
    """Session files in a private folder; each holds the vault key sealed by its session key."""

    # The token of the login's unlock is kept in `keyring` (storage/file/userkeyring.py).

    def __init__(self, folder, clock=time.time, keyring=None, no_keyring: str = ""):
        self.folder = os.fspath(folder)
        self.clock = clock
        self.keyring = keyring
        self.no_keyring = no_keyring  # why there is no keyring here

    @staticmethod
    def _description(vault: str) -> str:
        return f"authsome:session:{vault}"

    def shared_token(self, vault: str) -> str | None:
        """The token of the unlock shared by every shell of this login, if there is one."""
        if self.keyring is None:
            return None
        try:
            raw = self.keyring.get(self._description(vault))
        except OSError:
            return None
        return raw.decode("ascii", "replace") if raw else None

    def share(self, session: Session, vault: str, ttl: int) -> tuple[str | None, int | None]:
        """Keep the token where every shell of this login finds it: (None, or why it cannot;
        the uid of another user's key of that name it replaced, if any)."""
        if self.keyring is None:
            return self.no_keyring, None
        token = session.token.encode("ascii")
        try:
            return None, self.keyring.put(self._description(vault), token, ttl)
        except OSError as e:
            return e.strerror or str(e), None

    def unshare(self, vault: str) -> str | None:
        """Forget the login's unlock of `vault`; its token, if there was one."""
        token = self.shared_token(vault)
        if self.keyring is not None:
            import contextlib  # here, as below: token and env never need it (0.8 ms)

            with contextlib.suppress(OSError):
                self.keyring.delete(self._description(vault))
        return token

    def create(self, vault: str, salt: bytes, vault_key: bytes, ttl: int) -> Session:
        import base64

        fsutil.ensure_private_dir(self.folder)
        session_id = crypto.random_bytes(16).hex()
        session_key = crypto.random_bytes(crypto.KEY_BYTES)
        expires_at = int(self.clock()) + ttl
        blob = crypto.seal(session_key, vault_key, _aad(session_id, vault, salt, expires_at))
        doc = {"vault": str(vault), "expires_at": expires_at, "blob": crypto.b64e(blob)}
        fsutil.write_private(os.path.join(self.folder, session_id), jsonfast.dumps(doc).encode())
        token = base64.urlsafe_b64encode(session_key).decode().rstrip("=")
        return Session(session_id, f"{session_id}.{token}", expires_at)

    def open(self, token: str, vault: str, salt: bytes) -> bytes | None:
        """The vault key, if `token` names a live session for this vault; else None."""
        parts = _split_token(token)
        if parts is None:
            return None
        session_id, key_text = parts
        try:
            doc = jsonfast.loads(_read(os.path.join(self.folder, session_id)))
            expires_at = int(doc["expires_at"])
            blob = crypto.b64d(doc["blob"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if expires_at <= self.clock():
            self.end(token)
            return None
        if doc.get("vault") != str(vault):
            return None
        session_key = crypto.b64d(key_text.replace("-", "+").replace("_", "/") + "=")
        try:
            return crypto.unseal(session_key, blob, _aad(session_id, vault, salt, expires_at))
        except crypto.DecryptionFailed:
            return None

    def end(self, token: str) -> bool:
        parts = _split_token(token)
        if parts is None:
            return False
        try:
            os.unlink(os.path.join(self.folder, parts[0]))
            return True
        except FileNotFoundError:
            return False

    def expires_at(self, token: str) -> int | None:
        parts = _split_token(token)
        if parts is None:
            return None
        import contextlib

        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            doc = jsonfast.loads(_read(os.path.join(self.folder, parts[0])))
            return int(doc["expires_at"])
        return None


class Unlocker:
    """The file store's KeySource: session, then AUTHSOME_PASSPHRASE(_FILE), then the terminal."""

    def __init__(self, environ: dict[str, str], prompter, sessions: Sessions):
        self.environ = environ
        self._prompter = prompter  # a Prompter, or a function that makes one: token never asks
        self.sessions = sessions
        self.passphrase_source: str | None = None
        self.chosen_by: str | None = None  # "AUTHSOME_BACKEND=file" when chosen, not fallen to

    @property
    def prompter(self):  # a ui.prompt.Prompter
        if callable(self._prompter):
            self._prompter = self._prompter()
        return self._prompter

    def session_key(self, vault: str, salt: bytes) -> bytes | None:
        """The vault key of this shell's unlock, else of the login's (the kernel keyring)."""
        token = self.environ.get(ENV_SESSION)
        key = self.sessions.open(token, vault, salt) if token else None
        if key is None:
            token = self.sessions.shared_token(vault)
            key = self.sessions.open(token, vault, salt) if token else None
        return key

    def start_session(self, vault: str, salt: bytes, vault_key: bytes, ttl: int) -> Unlocked:
        """Seal `vault_key` in a new session, shared by every shell of the login if it can be."""
        from authsome.storage.file.sessionfiles import remove_expired

        sessions = self.sessions
        remove_expired(sessions.folder, sessions.clock())
        here, shared = self.environ.get(ENV_SESSION, ""), sessions.shared_token(vault) or ""
        session = sessions.create(vault, salt, vault_key, ttl)
        why_not, displaced = sessions.share(session, vault, ttl)
        # The new session replaces this shell's; and the login's, when it took that one's place.
        for token in (here,) if why_not is not None else (here, shared):
            sessions.end(token)
        own = session.token if why_not is not None else None
        return Unlocked(session.expires_at, own, why_not, displaced)

    def end_sessions(self, vault: str) -> tuple[bool, bool]:
        """End every unlock of `vault`: (another shell's or the login's was there, this shell's)."""
        from authsome.storage.file.sessionfiles import remove_vault

        ended_here = self.sessions.end(self.environ.get(ENV_SESSION, ""))
        self.sessions.unshare(vault)
        # Shells that unlocked on their own (no kernel keyring there) hold tokens whose session
        # files are here too: removing every file of this vault locks them as well.
        return remove_vault(self.sessions.folder, vault) > 0, ended_here

    def session_status(self, vault: str, salt: bytes, verify) -> dict:
        """Which session unlocks `vault` ('none', 'unlocked for ...', 'expired or invalid')."""
        import contextlib

        info: dict = {"session": "none"}
        shells = (
            ("this shell", self.environ.get(ENV_SESSION)),
            ("every shell, kernel keyring", self.sessions.shared_token(vault)),
        )
        for where, token in shells:
            if not token:
                continue
            key = None
            with contextlib.suppress(AuthsomeError):
                key = self.sessions.open(token, vault, salt)
            if key is not None and verify(key):
                return {
                    "session": f"unlocked for {where}",
                    "session_expires_at": self.sessions.expires_at(token),
                }
            info["session"] = "expired or invalid"
        return info

    def passphrase(self, vault: str, new: bool) -> str:
        if self.environ.get(ENV_PASSPHRASE):
            self.passphrase_source = ENV_PASSPHRASE
            return self.environ[ENV_PASSPHRASE]
        if self.environ.get(ENV_PASSPHRASE_FILE):
            self.passphrase_source = ENV_PASSPHRASE_FILE
            return self._read_file(os.path.expanduser(self.environ[ENV_PASSPHRASE_FILE]))
        if not self.prompter.can_prompt():
            raise self.prompter.locked(f"the encrypted file {vault}", unlock_command(self.environ))
        self.passphrase_source = "prompt"
        if not new:
            return self.prompter.secret(f"Passphrase for {vault}: ")
        because = self.chosen_by or "No desktop keychain here"
        print(
            f"{because}: authsome keeps secrets in an encrypted file. Choose a passphrase for it.",
            file=self.prompter.stderr,
            flush=True,
        )
        from authsome.storage.file.passphrase import ask_new

        return ask_new(self.prompter, vault)

    def passphrase_key(self, vault: str, derive, verify) -> bytes:
        """The vault key from the passphrase, asked again at the terminal when wrong."""
        from authsome.storage.file.passphrase import key_by_passphrase

        return key_by_passphrase(self, vault, derive, verify)

    def _read_file(self, path: str) -> str:
        try:
            with open(path, "rb") as f:
                fsutil.refuse_open(os.fstat(f.fileno()), path, ENV_PASSPHRASE_FILE)
                text = f.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or "not UTF-8 text"
            raise ConfigError(
                f"cannot read {ENV_PASSPHRASE_FILE} {path}: {reason}", "point it at a readable file"
            ) from None
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        if not text:
            raise ConfigError(f"{ENV_PASSPHRASE_FILE} {path} is empty", "put the passphrase in it")
        return text


def unlock_command(environ: dict[str, str]) -> str:
    """`authsome unlock` as the user's shell runs it: eval "$(...)", or `| source` in fish."""
    from authsome import shells

    return shells.get(shells.detect(environ)).source("authsome unlock")


def sessions_folder(runtime: str | None, home: str) -> str:
    """$XDG_RUNTIME_DIR/authsome when there is a runtime dir, else <home>/sessions."""
    return os.path.join(runtime, "authsome") if runtime else os.path.join(home, "sessions")


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()
