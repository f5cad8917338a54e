"""The keychain backend against a real Secret Service, and the choice between stores."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_PASSPHRASE
from memorystore import MemoryStore

from authsome.errors import StoreUnavailable
from authsome.factory import Context
from authsome.settings import Resolved
from authsome.storage.keychain import KeychainStore, probe
from authsome.storage.select import choose_store

SECRET = "xoxb-keychain-secret-0123456789"


def test_no_dbus_chooses_file_store_and_says_why(env, authsome_home):
    choice = Context(env).store_choice
    assert choice.store.name == "file"
    assert choice.source == "probe"
    assert choice.where() == (
        f"No desktop keychain (no D-Bus session): stored in the encrypted file "
        f"{authsome_home / 'vault'}"
    )


def test_probe_without_dbus_is_fast_and_spawns_nothing(env, monkeypatch):
    """Fast because it does nothing that could wait: no process, no connection."""
    tried = []
    monkeypatch.setattr(subprocess.Popen, "__init__", lambda *a, **k: tried.append(a))
    monkeypatch.setattr(socket.socket, "connect", lambda *a, **k: tried.append(a))
    result = probe(env)
    assert not result.usable and result.facts["dbus"] is False
    assert tried == [] and result.seconds >= 0


def test_autolaunch_address_is_not_followed(env):
    result = probe({**env, "DBUS_SESSION_BUS_ADDRESS": "autolaunch:"})
    assert not result.usable
    assert "autolaunch" in result.detail


def test_stale_bus_socket_is_not_usable(env, tmp_path):
    result = probe({**env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/nothing-here"})
    assert not result.usable and "cannot be reached" in result.detail


def test_bus_without_secret_service_falls_back_to_file(env, bare_bus):
    choice = Context({**env, **bare_bus.env()}).store_choice
    assert choice.store.name == "file"
    assert "nothing provides org.freedesktop.secrets" in choice.reason
    assert choice.where().startswith("No desktop keychain (D-Bus session found")


def test_secret_service_is_chosen_and_named(env, secret_service):
    choice = Context({**env, **secret_service.env()}).store_choice
    assert isinstance(choice.store, KeychainStore)
    assert choice.where() == "Stored in the Secret Service keychain"
    assert "org.freedesktop.secrets is running" in choice.reason


def test_env_and_config_override_the_probe(env, secret_service, authsome_home):
    e = {**env, **secret_service.env(), "AUTHSOME_BACKEND": "file"}
    choice = Context(e).store_choice
    assert (choice.store.name, choice.source) == ("file", "env")
    authsome_home.mkdir(parents=True, exist_ok=True)
    (authsome_home / "config.json").write_text('{"backend": "file"}')
    choice = Context({**env, **secret_service.env()}).store_choice
    assert (choice.store.name, choice.source) == ("file", "config")
    assert choice.where().startswith("Stored in the encrypted file")


def test_forced_keychain_without_dbus_is_a_clear_error(env):
    with pytest.raises(StoreUnavailable, match="AUTHSOME_BACKEND=keychain asks for the keychain"):
        Context({**env, "AUTHSOME_BACKEND": "keychain"}).store_choice  # noqa: B018


def test_selection_table_uses_given_probe():
    from authsome.storage.keychain.probe import ProbeResult

    def fake_probe(environ):
        return ProbeResult(False, "Secret Service", "a fake says no")

    choice = choose_store(Resolved(None, "default"), {}, MemoryStore, fake_probe)
    assert choice.store.name == "memory" and choice.reason == "a fake says no"


def test_locked_collection_without_display_fails_fast(env, fresh_secret_service):
    e = {**env, **fresh_secret_service.env()}
    fresh_secret_service.collection().lock()
    store = Context(e).store_choice.store
    # Waiting for an unlock prompt would end in the deadline's error, after a minute.
    store.timeout = 60
    with pytest.raises(StoreUnavailable, match="is locked and no desktop session") as info:
        store.get("github:default")
    assert "AUTHSOME_BACKEND=file" in str(info.value)


def test_hung_secret_service_times_out_within_the_bound(env, hung_secret_service):
    e = {**env, **hung_secret_service.env()}
    store = Context(e).store_choice.store
    assert isinstance(store, KeychainStore)  # the name is owned, so the probe says usable
    start = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"did not answer within 3 s") as info:
        store.set("github:default", SECRET)
    assert 2.9 <= time.monotonic() - start < 30  # its whole deadline, and not ten times that
    assert "AUTHSOME_BACKEND=file" in str(info.value)


def test_hung_service_cli_exits_with_store_unavailable(env, hung_secret_service):
    e = {**env, **hung_secret_service.env(), "AUTHSOME_BACKEND": "keychain"}
    code = "from authsome.factory import Context\nContext().store_choice.store.get('x:default')\n"
    out = subprocess.run(
        [sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=30
    )
    assert out.returncode != 0 and "did not answer within 3 s" in out.stderr


def _scan(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_keychain_secret_bytes_appear_nowhere_on_disk(env, isolated_home, secret_service):
    store = Context({**env, **secret_service.env()}).store_choice.store
    store.set("slack:default", SECRET)
    try:
        assert store.get("slack:default") == SECRET
        assert _scan(isolated_home, SECRET.encode()) == []
        assert _scan(secret_service.home, SECRET.encode()) == []
        assert list((secret_service.home / "data" / "keyrings").glob("*.keyring"))
    finally:
        store.delete("slack:default")


def test_file_fallback_never_uses_plaintext(env, isolated_home):
    e = {**env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    Context(e).store_choice.store.set("slack:default", SECRET)
    assert _scan(isolated_home, SECRET.encode()) == []


# Another local user's bus and keyring. A victim pointed at them (a shared or hostile
# XDG_RUNTIME_DIR, a planted DBUS_SESSION_BUS_ADDRESS) must not hand them a secret.
API_KEY = "sk-victim-0123456789abcdefghijklmnop"


def _authsome_items(bus_address: str) -> list:
    """What authsome stored in the default collection of the Secret Service on that bus."""
    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=bus_address) as conn:
        collection = secretstorage.get_default_collection(conn)
        return [item.get_label() for item in collection.search_items({"application": "authsome"})]


@pytest.fixture
def other_users_secret_service():
    """gnome-keyring and its dbus-daemon run by uid 65534, on a socket and an abstract name."""
    import secrets as random

    from realparts import OTHER_UID, PrivateBus, SecretService, as_other_user, other_users_dir

    as_other_user([])  # skip (or fail under CI=true) unless a second uid can be used
    name = f"authsome-test-{random.token_hex(8)}"
    with other_users_dir() as root:
        bus = PrivateBus(root / "dbus", user=OTHER_UID, abstract=name, any_user=True)
        service = SecretService(root / "keyring", bus=bus, user=OTHER_UID)
        try:
            yield bus, name
        finally:
            service.stop()
            bus.stop()


@pytest.mark.parametrize("pointer", ["XDG_RUNTIME_DIR", "unix:path", "unix:abstract"])
def test_another_users_bus_gets_no_secret(env, other_users_secret_service, pointer):
    from clitools import run

    bus, name = other_users_secret_service
    victim = {
        "XDG_RUNTIME_DIR": {"XDG_RUNTIME_DIR": str(bus.root)},
        "unix:path": {"DBUS_SESSION_BUS_ADDRESS": f"unix:path={bus.socket}"},
        "unix:abstract": {"DBUS_SESSION_BUS_ADDRESS": f"unix:abstract={name}"},
    }[pointer]
    e = {**env, **victim, "AUTHSOME_BACKEND": "keychain"}
    out = run(["login", "openai"], e, input=API_KEY + "\n")
    assert out.returncode == 4, out.stderr
    [line] = out.stderr.splitlines()
    problem = "is run by uid 65534" if pointer == "unix:abstract" else "belongs to uid 65534"
    assert line.startswith("authsome: AUTHSOME_BACKEND=keychain asks for the keychain, but")
    assert problem in line and "AUTHSOME_BACKEND=file" in line
    # The store itself refuses too, when asked without the probe.
    with pytest.raises(StoreUnavailable, match=problem):
        KeychainStore(e).set("openai:default", API_KEY)
    assert _authsome_items(bus.address) == []
    # Left to choose, authsome says why the keychain is not usable; doctor counts it a problem.
    auto = {k: v for k, v in e.items() if k != "AUTHSOME_BACKEND"}
    doctor = run(["doctor"], auto)
    assert doctor.returncode == 11
    assert "keychain:  Secret Service not usable: " in doctor.stdout and problem in doctor.stdout


def test_a_secret_service_of_another_user_on_our_bus_gets_no_secret(env, tmp_path):
    import secrets as random

    from clitools import run
    from realparts import (
        OTHER_UID,
        KnownBus,
        PrivateBus,
        SecretService,
        as_other_user,
        other_users_dir,
    )

    as_other_user([])
    name = f"authsome-test-{random.token_hex(8)}"
    # Our own bus (which uid 65534 may join, by its abstract name), where uid 65534 took
    # org.freedesktop.secrets first.
    bus = PrivateBus(tmp_path / "bus", abstract=name, any_user=True)
    try:
        with other_users_dir() as root:
            service = SecretService(
                root / "keyring", bus=KnownBus(f"unix:abstract={name}"), user=OTHER_UID
            )
            try:
                e = {**env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={bus.socket}"}
                out = run(
                    ["login", "openai"], {**e, "AUTHSOME_BACKEND": "keychain"}, input=API_KEY + "\n"
                )
                assert out.returncode == 4, out.stderr
                assert "org.freedesktop.secrets on the D-Bus session bus belongs to uid 65534" in (
                    out.stderr
                )
                with pytest.raises(StoreUnavailable, match="belongs to uid 65534"):
                    KeychainStore(e).set("openai:default", API_KEY)
                assert _authsome_items(bus.address) == []
            finally:
                service.stop()
    finally:
        bus.stop()


def test_a_bus_socket_in_a_folder_others_can_write_is_not_used(env, fresh_secret_service):
    folder = fresh_secret_service.bus.root
    folder.chmod(0o777)  # anyone could put their own socket in its place
    try:
        result = probe({**env, **fresh_secret_service.env()})
        assert not result.usable
        assert f"{folder} is open to other users (mode 0777)" in result.detail
    finally:
        folder.chmod(0o700)
    assert probe({**env, **fresh_secret_service.env()}).usable


@pytest.mark.parametrize("args", [["token", "openai"], ["env", "openai"]])
def test_keychain_reads_skip_secretstorage(env, secret_service, args):
    """`token` and `env` from the keychain read over jeepney: no secretstorage, no
    cryptography (the DH session's), no keyring (storage/keychain/quickread.py)."""
    import ast

    e = {**env, **secret_service.env()}
    key = "sk-0123456789abcdefghijklmn"
    login = subprocess.run(
        [str(Path(sys.executable).parent / "authsome"), "login", "openai"],
        env={**e, "OPENAI_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert login.returncode == 0 and "keychain" in login.stderr.lower(), login.stderr
    heavy = ("secretstorage", "cryptography", "keyring", "click", "httpx")
    code = (
        "import sys\nfrom authsome.main import main\n"
        f"sys.argv = ['authsome', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
    finally:  # the Secret Service is the session's: leave it as found for the next test
        Context(e).store_choice.store.delete("openai:default")
    assert out.returncode == 0, out.stderr
    assert key in out.stdout
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == []
