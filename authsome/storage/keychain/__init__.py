"""The platform keychain store: every call bounded in time, locked keychains handled."""

from __future__ import annotations

import sys

from authsome.errors import StoreUnavailable
from authsome.storage.base import Store
from authsome.storage.keychain.probe import ProbeResult

CALL_TIMEOUT = 3.0  # a locked KeePassXC or a wedged daemon otherwise hangs forever
PROMPT_TIMEOUT = 120.0  # a person answering the desktop unlock prompt


def _platform_module():
    # One module per platform family; anything that is not macOS or Windows speaks D-Bus.
    if sys.platform in ("darwin", "win32"):
        from authsome.storage.keychain import oskeyring

        return oskeyring
    from authsome.storage.keychain import secretservice

    return secretservice


def probe(environ: dict[str, str]) -> ProbeResult:
    """Is the platform keychain usable? Bounded by CALL_TIMEOUT."""
    module = _platform_module()
    try:
        return bounded(lambda: module.probe(environ), CALL_TIMEOUT, "the keychain probe")
    except StoreUnavailable as e:
        return ProbeResult(False, "keychain", e.what, {})


def bounded(fn, timeout: float, what: str):
    """Run `fn`; raise StoreUnavailable if it takes longer than `timeout`."""
    from authsome.util.deadline import DeadlineExceeded, interrupted, within

    # The alarm stops only Python code: the Secret Service's exchange (jeepney) is that, but
    # keyring's macOS backend waits inside Security.framework, where only a thread bounds it.
    bound = within if sys.platform in ("darwin", "win32") else interrupted
    try:
        return bound(fn, timeout, "authsome-keychain")
    except DeadlineExceeded:
        raise StoreUnavailable(
            f"{what} did not answer within {timeout:g} s",
            "unlock or restart the keychain service, or use the encrypted file:"
            " AUTHSOME_BACKEND=file",
        ) from None


class KeychainStore(Store):
    """Secrets in the OS keychain (Secret Service, macOS Keychain, Credential Manager)."""

    name = "keychain"

    def __init__(self, environ: dict[str, str], driver=None, timeout: float = CALL_TIMEOUT):
        self.environ = environ
        self.timeout = timeout
        self.driver = driver or self._default_driver(environ)
        self._ready = False

    @staticmethod
    def _default_driver(environ):
        module = _platform_module()
        if hasattr(module, "SecretServiceDriver"):
            return module.SecretServiceDriver(environ)
        return module.KeyringDriver(environ)

    def describe(self) -> str:
        return self.driver.description

    def _ensure_open(self) -> None:
        if self._ready:
            return
        locked = bounded(self.driver.open, self.timeout, self.driver.description)
        if locked:
            label = self.driver.collection_label()
            if not self.driver.can_unlock():
                raise StoreUnavailable(
                    f"the keychain collection {label!r} is locked and no desktop session"
                    " can show its unlock prompt",
                    "unlock it from your desktop session, or use the encrypted file:"
                    " AUTHSOME_BACKEND=file",
                )
            bounded(
                lambda: self.driver.unlock(PROMPT_TIMEOUT),
                PROMPT_TIMEOUT + 5,
                "the keyring unlock prompt",
            )
        self._ready = True

    def _call(self, fn, *args):
        self._ensure_open()
        return bounded(lambda: fn(*args), self.timeout, self.driver.description)

    def prepare(self) -> None:
        self._ensure_open()

    def get(self, key: str) -> str | None:
        quick = getattr(self.driver, "quick_get", None)
        if quick is not None and not self._ready:
            from authsome.storage.keychain.quickread import SLOW

            found = bounded(lambda: quick(key), self.timeout, self.driver.description)
            if found is not SLOW:
                return found
        return self._call(self.driver.get, key)

    def set(self, key: str, value: str) -> None:
        self._call(self.driver.set, key, value)

    def delete(self, key: str) -> bool:
        return self._call(self.driver.delete, key)

    def list(self) -> list[str]:
        return self._call(self.driver.list)
