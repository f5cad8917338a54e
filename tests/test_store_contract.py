"""The contract every store backend meets: memory, file, the real Secret Service, and the
keyring-library driver (macOS, Windows) over an in-memory keyring backend."""

import subprocess
import sys
import threading
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from memorystore import MemoryStore

from authsome.factory import Context
from authsome.storage.keychain import KeychainStore, oskeyring

WRITER = Path(__file__).with_name("writer.py")


class StoreContract:
    """Subclasses provide `store` and `run_writers(prefixes, count)`."""

    def test_missing_key_is_none(self, store):
        assert store.get("nobody:default") is None

    def test_round_trip_and_overwrite(self, store):
        store.set("github:default", "first")
        store.set("github:default", "second")
        assert store.get("github:default") == "second"
        assert "github:default" in store.list()

    def test_unicode_keys_and_values(self, store):
        value = "ключ 🔑 \u00e9\u0301 \u202e rtl \t tab \n newline 'quote' \"dq\" $HOME `x` \\"
        store.set("unicode-provider:work", value)
        assert store.get("unicode-provider:work") == value

    def test_large_value(self, store):
        value = "".join(chr(0x20 + (i * 7) % 0x5F) for i in range(256 * 1024))
        store.set("big:default", value)
        assert store.get("big:default") == value

    def test_delete(self, store):
        store.set("gone:default", "x")
        assert store.delete("gone:default") is True
        assert store.get("gone:default") is None
        assert "gone:default" not in store.list()

    def test_delete_missing_is_false(self, store):
        assert store.delete("never:default") is False

    def test_keys_do_not_collide(self, store):
        store.set("a:one", "1")
        store.set("a:two", "2")
        store.set("b:one", "3")
        assert [store.get(k) for k in ("a:one", "a:two", "b:one")] == ["1", "2", "3"]

    def test_concurrent_writers(self, store, run_writers):
        prefixes = [f"writer{i}" for i in range(4)]
        run_writers(prefixes, 5)
        keys = set(store.list())
        for p in prefixes:
            for i in range(5):
                assert f"{p}:{i}" in keys
                assert store.get(f"{p}:{i}").startswith(f"{p}-{i}-")

    def test_a_store_on_one_machine_ignores_the_pending_marker(self, store):
        """Every store's refresh lock is handed the marker (storage/pending.py); only one that
        other machines share has a use for it."""
        if store.shared:
            pytest.skip("a shared store writes the marker: tests/test_vault_refresh.py")
        with store.refresh_lock("p:default", lambda: False, _Untouchable()) as lock:
            lock.spend("rt-1")
            lock.keep_marker()
            lock.fail({"error": "x"})
            assert lock.held and lock.pending is None and lock.failure is None


class _Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"the marker was asked for {name}")


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self):
        return MemoryStore()

    @pytest.fixture
    def run_writers(self, store):
        # A memory store lives in one process, so its writers are threads.
        return lambda prefixes, count: _thread_writers(store, prefixes, count)


def _thread_writers(store, prefixes, count):
    def write(prefix):
        for i in range(count):
            store.set(f"{prefix}:{i}", f"{prefix}-{i}-")

    threads = [threading.Thread(target=write, args=(p,)) for p in prefixes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _spawn_writers(env, prefixes, count):
    procs = [
        subprocess.Popen([sys.executable, str(WRITER), p, str(count), "64"], env=env)
        for p in prefixes
    ]
    assert [p.wait(120) for p in procs] == [0] * len(procs)


class TestFileStore(StoreContract):
    @pytest.fixture
    def env(self, file_env):
        """Unlocked, its key known (conftest.py): the test and its writers pay no scrypt; the
        passphrase's own path is tests/test_file_store.py's."""
        return file_env

    @pytest.fixture
    def store(self, env):
        return Context(env).store_choice.store

    @pytest.fixture
    def run_writers(self, env):
        return lambda prefixes, count: _spawn_writers(env, prefixes, count)


class TestKeychainStore(StoreContract):
    @pytest.fixture
    def env(self, env, secret_service):
        return {**env, **secret_service.env()}

    @pytest.fixture
    def store(self, env):
        store = Context(env).store_choice.store
        assert isinstance(store, KeychainStore)
        yield store
        for key in store.list():
            store.delete(key)

    @pytest.fixture
    def run_writers(self, env):
        return lambda prefixes, count: _spawn_writers(env, prefixes, count)


def _full_driver_must_not_read(key):
    raise AssertionError("the hot path fell back to secretstorage for a plain read")


class _HotPathReads:
    """The store, but every read is a new process's first read: the jeepney hot path
    (storage/keychain/quickread.py), with the full driver's read disabled."""

    def __init__(self, env, store):
        self.env, self.store = env, store

    def get(self, key):
        fresh = KeychainStore(self.env)
        fresh.driver.get = _full_driver_must_not_read
        return fresh.get(key)

    def __getattr__(self, name):
        return getattr(self.store, name)


class TestKeychainHotPathReads(TestKeychainStore):
    """The keychain contract again, every read through the hot path."""

    @pytest.fixture
    def store(self, env):
        store = Context(env).store_choice.store
        assert isinstance(store, KeychainStore)
        yield _HotPathReads(env, store)
        for key in store.list():
            store.delete(key)


def test_keychain_item_has_label_and_attributes(env, secret_service):
    store = Context({**env, **secret_service.env()}).store_choice.store
    store.set("github:work", "s3cret")
    try:
        items = list(secret_service.collection().search_items({"application": "authsome"}))
        assert [i.get_label() for i in items] == ["authsome: github (work)"]
        attrs = items[0].get_attributes()
        assert attrs["provider"] == "github" and attrs["connection"] == "work"
    finally:
        store.delete("github:work")


class FakeKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend: what macOS Keychain or Credential Manager do, minus the OS."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class TestKeyringDriverStore(StoreContract):
    @pytest.fixture
    def store(self, env):
        driver = oskeyring.KeyringDriver(env, backend=FakeKeyring())
        return KeychainStore(env, driver=driver)

    @pytest.fixture
    def run_writers(self, store):
        # The fake keyring lives in this process, so its writers are threads.
        return lambda prefixes, count: _thread_writers(store, prefixes, count)


def test_keyring_driver_names_the_given_backend_and_keeps_no_manifest_key(env):
    fake = FakeKeyring()
    store = KeychainStore(env, driver=oskeyring.KeyringDriver(env, backend=fake))
    store.set("github:default", "s3cret")
    assert store.describe() == "the FakeKeyring"
    assert store.list() == ["github:default"]  # the key list itself is not a key
    assert fake.items[("authsome", "github:default")] == "s3cret"


def test_a_keyring_that_is_not_an_os_keychain_is_refused(env):
    before = keyring.get_keyring()
    keyring.set_keyring(FakeKeyring())
    try:
        result = oskeyring.probe(env)
    finally:
        keyring.set_keyring(before)
    assert not result.usable
    assert "which is not an OS keychain" in result.detail
