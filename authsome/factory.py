"""One object that builds every dependency lazily; tests build it with fakes."""

from __future__ import annotations

import os
import time

from authsome import settings
from authsome.storage.home import Home
from authsome.ui.streams import IOStreams
from authsome.util.lazy import lazy

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.providers.model import Provider
    from authsome.providers.registry import Registry
    from authsome.storage.connections import Connections
    from authsome.storage.file.sessions import Sessions, Unlocker
    from authsome.storage.file.store import FileStore
    from authsome.storage.index import Index
    from authsome.storage.keychain.probe import ProbeResult
    from authsome.storage.registrations import Registrations
    from authsome.storage.select import StoreChoice
    from authsome.storage.vault import SharedVault
    from authsome.util.http import Http


class Context:
    """Environment, clock and lazily built stores, with the IO streams (ctx.io) kept apart.

    Nothing is opened at import time."""

    # A due token is refreshed in a helper process (services/refreshhelper.py) unless the
    # command keeps refreshing for long (run --proxy): its back-off must live in its memory.
    refresh_in_helper = True

    def __init__(
        self,
        environ: dict[str, str] | None = None,
        *,
        stdin: object | None = None,
        stdout: object | None = None,
        stderr: object | None = None,
        prompter=None,
        clock=time.time,
        sleep=time.sleep,
        store=None,
        probe=None,
        http=None,
        browser=None,
    ):
        self.environ = dict(os.environ if environ is None else environ)
        self.io = IOStreams(stdin, stdout, stderr, prompter, browser or self._open_url)
        self.clock = clock
        self.sleep = sleep
        self._http = http
        self._store = store
        self._probe = probe

    def _open_url(self, url: str) -> bool:
        from authsome.services.childenv import scrub
        from authsome.ui import browser

        # The browser may run for hours: it gets no key to the store and no credentials.
        return browser.open_url(url, self.environ, scrub(self.environ, self.registry))

    # -- lazily built parts ------------------------------------------------------------
    @lazy
    def home(self) -> Home:
        resolved = settings.resolve_home(self.environ)
        home = Home(resolved.value, resolved.source)
        home.check_format()
        return home

    @lazy
    def config(self) -> dict:
        return settings.load_config(self.home.config_file)

    @lazy
    def backend(self) -> settings.Resolved:
        return settings.resolve_backend(self.environ, self.config, self.home.config_file)

    @lazy
    def sessions(self) -> Sessions:
        from authsome.storage.file.sessions import Sessions, sessions_folder
        from authsome.storage.file.userkeyring import open_keyring

        folder = sessions_folder(settings.runtime_dir(self.environ), self.home.path)
        keyring, why_not = open_keyring(self.environ)
        return Sessions(folder, self.clock, keyring, why_not or "")

    @lazy
    def unlocker(self) -> Unlocker:
        from authsome.storage.file.sessions import Unlocker

        return Unlocker(self.environ, lambda: self.io.prompter, self.sessions)

    @lazy
    def vault(self) -> FileStore:
        """The encrypted file store of this home, whichever store is chosen (doctor, lock)."""
        from authsome.storage.file.store import FileStore

        return FileStore(self.home.vault_file, self.home.lock_path("vault"), lambda: self.unlocker)

    def file_store(self) -> FileStore:
        self.home.ensure()
        if self.backend.value == "file":  # chosen, not a fallback: say so when asking
            where = "AUTHSOME_BACKEND" if self.backend.source == "env" else "config.json: backend"
            self.unlocker.chosen_by = f"{where}=file"
        return self.vault

    @lazy
    def keychain_probe(self) -> ProbeResult:
        """Whether the platform keychain is usable here (asked once per process)."""
        if self._probe is not None:
            return self._probe(self.environ)
        from authsome.storage import keychain

        return keychain.probe(self.environ)

    @lazy
    def store_choice(self) -> StoreChoice:
        from authsome.storage.select import StoreChoice, choose_store

        if self._store is not None:
            return StoreChoice(self._store, "test", "a store given by the caller")
        return choose_store(
            self.backend,
            self.environ,
            self.file_store,
            lambda environ: self.keychain_probe,
            lambda: self.shared_vault.store,
        )

    @lazy
    def shared_vault(self) -> SharedVault:
        """The OpenBao/Vault store and its index, for AUTHSOME_BACKEND=vault."""
        from authsome.storage.vault import open_vault

        return open_vault(self.environ, self.config, self.home, self.http.deadline, self.io.say)

    @lazy
    def index(self) -> Index:
        """The metadata of every connection: enough for list, env and Tab, no secret."""
        if self._store is None and self.backend.value == "vault":
            return self.shared_vault.index
        from authsome.storage.index import Index

        return Index(self.home.index_file, self.home.lock_path("index"))

    @lazy
    def connections(self) -> Connections:
        from authsome.storage.connections import Connections
        from authsome.storage.journal import Journal

        self.home.ensure()
        journal = Journal(self.home.journal_dir, self.environ.get("XDG_RUNTIME_DIR"))
        # The store is chosen on first use (list reads the index alone); a given one at once.
        choice = self.store_choice if self._store is not None else lambda: self.store_choice
        return Connections(
            choice, self.index, self.clock, journal, self.io.say, lambda: self.vault, _answer
        )

    @lazy
    def registrations(self) -> Registrations:
        """Dynamically registered OAuth clients, kept in the same store as the logins."""
        from authsome.storage.registrations import Registrations

        return Registrations(self.store_choice)

    @lazy
    def http(self) -> Http:
        from authsome.util.http import Http

        return self._http or Http(deadline=settings.resolve_http_deadline(self.environ).value)

    @lazy
    def registry(self) -> Registry:
        from authsome.providers.registry import Registry
        from authsome.util.resources import data_path

        return Registry(data_path("providers"), self.home.providers_dir)

    def provider(self, name: str, refresh: bool = False) -> Provider:
        """A provider definition with its issuer's endpoints filled in (oauth/discovery.py)."""
        provider = self.registry.get(name)
        if provider.oauth is not None and (provider.oauth.issuer or provider.oauth.resource):
            from authsome.oauth import discovery

            provider = discovery.resolve(self, provider, refresh)
        return provider

    @lazy
    def refresh_margin(self) -> int:
        return settings.resolve_refresh_margin(self.environ).value

    @lazy
    def client_metadata_url(self) -> str | None:
        """The user's Client ID Metadata Document, for servers that take one as client ID."""
        home = self.home.config_file
        return settings.resolve_client_metadata_url(self.environ, self.config, home).value

    def leave_connections(self) -> None:
        """In a forked helper: leave the open connections (HTTP, Vault) to the parent and open
        new ones when needed; two processes cannot share one TLS session."""
        if "http" in self.__dict__:
            self.http.leave()
        if "shared_vault" in self.__dict__:
            self.shared_vault.store.client.leave()


def _answer(stored, kept: dict):
    """A refresh's raw answer that the journal holds, made into the record (oauth/answer.py)."""
    from authsome.oauth.answer import recover

    return recover(stored, kept)
