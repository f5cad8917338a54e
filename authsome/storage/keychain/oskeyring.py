"""macOS Keychain and Windows Credential Manager, through keyring."""

from __future__ import annotations

import json
import threading
import time

from authsome.errors import StoreUnavailable
from authsome.storage.keychain.probe import ProbeResult

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

SERVICE = "authsome"
MANIFEST = "__authsome_keys__"  # keyring cannot enumerate items, so we keep the key list
# Backends that keep secrets in the OS keychain; anything else (keyrings.alt's plaintext or
# "encrypted" files, the null and fail backends) is refused, and doctor says so.
SECURE_BACKENDS = {
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
}
FIX = "use the encrypted file instead: AUTHSOME_BACKEND=file"


def _backend():
    import keyring

    return keyring.get_keyring()


def _secure_name(backend) -> str | None:
    for prefix, name in SECURE_BACKENDS.items():
        if type(backend).__module__.startswith(prefix):
            return name
    return None


def probe(environ: dict[str, str]) -> ProbeResult:
    start = time.perf_counter()
    try:
        backend = _backend()
    except Exception as e:  # noqa: BLE001
        return ProbeResult(
            False,
            "keyring",
            f"keyring failed to load: {type(e).__name__}",
            {},
            time.perf_counter() - start,
        )
    cls = f"{type(backend).__module__}.{type(backend).__name__}"
    name = _secure_name(backend)
    if name is None:
        detail = f"keyring chose {cls}, which is not an OS keychain; authsome will not use it"
        return ProbeResult(
            False, "keyring", detail, {"keyring_backend": cls}, time.perf_counter() - start
        )
    return ProbeResult(
        True, name, f"keyring uses {cls}", {"keyring_backend": cls}, time.perf_counter() - start
    )


class KeyringDriver:
    """One keyring entry per connection under the service name 'authsome'."""

    def __init__(self, environ: dict[str, str], backend=None):
        self.environ = environ
        self._given = backend  # a backend the caller chose (tests' fake) is used as it is
        self._kr: Any = None  # the keyring backend, from open()
        self._manifest_lock = threading.Lock()
        self.description = "the OS keychain"

    def open(self) -> bool:
        if self._kr is None:
            kr = _backend() if self._given is None else self._given
            name = _secure_name(kr) if self._given is None else type(kr).__name__
            if name is None:
                raise StoreUnavailable(
                    f"keyring offers {type(kr).__module__}, which is not an OS keychain", FIX
                )
            self._kr, self.description = kr, f"the {name}"
        return False

    def collection_label(self) -> str:
        return SERVICE

    def can_unlock(self) -> bool:
        return True

    def unlock(self, timeout: float) -> None:  # the OS asks by itself
        return None

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001
            raise StoreUnavailable(f"{self.description} failed: {type(e).__name__}", FIX) from None

    def get(self, key: str) -> str | None:
        return self._call(self._kr.get_password, SERVICE, key)

    def set(self, key: str, value: str) -> None:
        self._call(self._kr.set_password, SERVICE, key, value)
        self._edit_manifest(lambda keys: keys | {key})

    def delete(self, key: str) -> bool:
        if self.get(key) is None:
            return False
        self._call(self._kr.delete_password, SERVICE, key)
        self._edit_manifest(lambda keys: keys - {key})
        return True

    def _edit_manifest(self, change) -> None:
        # Read, change, write: without the lock, two threads' writes would drop a key.
        with self._manifest_lock:
            keys = change(set(self.list()))
            self._call(self._kr.set_password, SERVICE, MANIFEST, json.dumps(sorted(keys)))

    def list(self) -> list[str]:
        raw = self.get(MANIFEST)
        try:
            return sorted(json.loads(raw)) if raw else []
        except ValueError:
            return []

    def close(self) -> None:
        return None
