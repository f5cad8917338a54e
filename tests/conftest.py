import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from realparts import HungSecretService, PrivateBus, SecretService  # noqa: E402


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: a worker per core, and at least six, since most tests wait on real servers,
    shells, expiries and processes (on 2 cores, 4 workers took 341-349 s and 6 312 s, the CPU
    still 15% idle). PYTEST_XDIST_AUTO_NUM_WORKERS wins."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return max(6, len(os.sched_getaffinity(0)))


def pytest_configure(config):
    """Bytecode, as users' installs have it. Under PYTHONDONTWRITEBYTECODE (which some CI
    images and sandboxes set) each of a run's 2,600 authsome processes would compile its
    modules anew (20-30 ms each), and every run rewrite every test module's asserts."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def pytest_collection_modifyitems(items):
    """Mark the cheap tests `unit` (tests/costs.py): `pytest -m unit` is the inner loop.

    And run first the modules that hold a slow test: xdist hands tests out in this order, and
    a run whose last tests are its minute-long ones ends with one worker busy and the others
    idle (a module stays in one piece, for its module fixtures)."""
    from costs import is_unit

    for item in items:
        if is_unit(item):
            item.add_marker(pytest.mark.unit)
    heavy = {_module(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: _module(item) not in heavy)  # stable: file order otherwise


def _module(item) -> str:
    return item.nodeid.split("::")[0]


DESELECTED = pytest.StashKey[bool]()


def pytest_deselected(items):
    """Remember that this run left tests out (-k, -m, --lf): its items are not the whole suite,
    so tests/test_unit_loop.py collects the suite itself."""
    if items:
        items[0].config.stash[DESELECTED] = True


ISOLATED_VARS = (
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "AUTHSOME_BACKEND",
    "AUTHSOME_PASSPHRASE",
    "AUTHSOME_PASSPHRASE_FILE",
    "AUTHSOME_SESSION",
    "AUTHSOME_REFRESH_MARGIN",
    "AUTHSOME_DEBUG",
    # Vault's and OpenBao's CLI settings: no test may reach a server of the machine it runs on.
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "VAULT_ROLE_ID_FILE",
    "VAULT_SECRET_ID_FILE",
    "BAO_ADDR",
    "BAO_TOKEN",
    "BAO_NAMESPACE",
    "BAO_CACERT",
    "GITHUB_ENV",  # under GitHub Actions: no test may append to the runner's own file
)
TEST_PASSPHRASE = "correct horse battery staple ✓"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own HOME and AUTHSOME_HOME, and no session bus or display."""
    home = tmp_path / "home"
    home.mkdir()
    for var in ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AUTHSOME_HOME", str(home / ".authsome"))
    # The kernel user keyring is shared by every process of this uid, like a second HOME: tests
    # unlock per shell unless they test the keyring (tests/test_unlock.py, keyring_env).
    monkeypatch.setenv("AUTHSOME_KEYRING", "0")
    return home


@pytest.fixture
def authsome_home(isolated_home) -> Path:
    return isolated_home / ".authsome"


@pytest.fixture
def env(isolated_home) -> dict[str, str]:
    """A copy of the isolated environment, for subprocesses and Context."""
    return dict(os.environ)


@pytest.fixture
def passphrase_env(env) -> dict[str, str]:
    """The encrypted file store opened by its passphrase: the KDF (~0.3 s) runs on every call."""
    return {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}


@pytest.fixture(scope="session")
def vault_template(tmp_path_factory) -> tuple[bytes, bytes, bytes]:
    """One empty vault, its salt and its key, made with the one KDF of the test session."""
    from authsome.factory import Context

    home = tmp_path_factory.mktemp("vault-template")
    store = Context(
        {
            "HOME": str(home),
            "AUTHSOME_HOME": str(home / ".authsome"),
            "AUTHSOME_BACKEND": "file",
            "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE,
            "AUTHSOME_KEYRING": "0",
        }
    ).store_choice.store
    doc = store.create()
    return Path(store.path).read_bytes(), doc.salt, store.key_for(doc)


def unlock(environ: dict[str, str], template: tuple[bytes, bytes, bytes]) -> dict[str, str]:
    """`environ` as after `authsome unlock` in its shell: a session token, no passphrase.

    The vault is a copy of the template, whose key is known, so no KDF runs here or later.
    """
    from authsome.factory import Context
    from authsome.services.session import DEFAULT_TTL, parse_ttl
    from authsome.util import fsutil

    raw, salt, key = template
    ctx = Context(environ)
    vault = ctx.home.ensure().vault_file
    fsutil.write_private(vault, raw)
    session = ctx.sessions.create(vault, salt, key, parse_ttl(DEFAULT_TTL))
    unlocked = {**environ, "AUTHSOME_SESSION": session.token}
    del unlocked["AUTHSOME_PASSPHRASE"]
    return unlocked


@pytest.fixture
def file_env(passphrase_env, vault_template) -> dict[str, str]:
    """The encrypted file store, unlocked (an empty vault exists): no KDF per call.

    Tests of the passphrase path, or that start from no home, use passphrase_env."""
    return unlock(passphrase_env, vault_template)


@pytest.fixture
def unlocked_env(passphrase_env, vault_template, tmp_path) -> dict[str, str]:
    """file_env with its session kept in XDG_RUNTIME_DIR, as on a desktop login."""
    (tmp_path / "run").mkdir(mode=0o700)
    return unlock({**passphrase_env, "XDG_RUNTIME_DIR": str(tmp_path / "run")}, vault_template)


@pytest.fixture
def install_provider(authsome_home):
    """Write a user provider definition into ~/.authsome/providers/NAME.json."""
    import json

    def install(data: dict) -> Path:
        folder = authsome_home / "providers"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{data['name']}.json"
        path.write_text(json.dumps(data))
        return path

    return install


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory):
    """A real gnome-keyring Secret Service on a private D-Bus, shared by the session."""
    service = SecretService(tmp_path_factory.mktemp("secret-service"))
    yield service
    service.stop()


@pytest.fixture
def fresh_secret_service(tmp_path):
    """A Secret Service of this test's own (for tests that lock it)."""
    service = SecretService(tmp_path / "ss")
    yield service
    service.stop()


@pytest.fixture
def api(tmp_path):
    """An HTTPS API on loopback under a test CA (tests/proxyservers.py): a proxy's upstream."""
    from proxyservers import ApiServer

    server = ApiServer(tmp_path / "api")
    yield server
    server.stop()


@pytest.fixture
def raw(tmp_path):
    """An HTTPS API that keeps every request as it arrived (tests/proxyservers.py RawServer)."""
    from proxyservers import RawServer

    server = RawServer(tmp_path / "raw")
    yield server
    server.stop()


@pytest.fixture
def raw_env(file_env, testsrv, install_provider, raw):
    """Logged in to testsrv, whose API is `raw`, as `run --proxy` sees it."""
    from clitools import logged_in_behind

    return logged_in_behind(file_env, testsrv, install_provider, raw)


@pytest.fixture
def hung_secret_service(tmp_path):
    service = HungSecretService(tmp_path / "hung")
    yield service
    service.stop()


@pytest.fixture
def bare_bus(tmp_path):
    """A D-Bus session with nothing on it."""
    bus = PrivateBus(tmp_path / "bare")
    yield bus
    bus.stop()


@pytest.fixture
def oauth_server():
    from oauth_server import OAuthServer

    server = OAuthServer()
    yield server
    server.stop()


@pytest.fixture
def testsrv(oauth_server, install_provider):
    """The test server installed as the user provider 'testsrv'."""
    install_provider(oauth_server.provider())
    return oauth_server


@pytest.fixture
def make_oidc_server():
    """Start node-oidc-provider (tests/oidc/); under CI=true its absence is a failure."""
    from oidc_server import OIDCServer, missing
    from realparts import IN_CI

    why = missing()
    if why:
        if IN_CI:
            pytest.fail(f"CI=true and the OIDC server cannot run: {why}")
        pytest.skip(why)
    started = []

    def start(**kw) -> OIDCServer:
        started.append(OIDCServer(**kw))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def oidc_server(make_oidc_server):
    return make_oidc_server()


@pytest.fixture(scope="module")
def bao_server(tmp_path_factory):
    """A real OpenBao dev server (bao server -dev on loopback), one per test module.

    Each test keeps to a KV prefix of its own (vault_prefix); tests that seal or stop the
    server use a server of their own (baoserver.BaoServer(tmp_path))."""
    from baoserver import BaoServer

    server = BaoServer(tmp_path_factory.mktemp("bao"))
    yield server
    server.close()


@pytest.fixture
def vault_prefix() -> str:
    """A KV prefix of this test's own, so tests that share a server never see each other."""
    import secrets

    return f"t{secrets.token_hex(5)}"


@pytest.fixture
def vault_env(env, isolated_home, bao_server, vault_prefix) -> dict[str, str]:
    """This test's machine: AUTHSOME_BACKEND=vault, the dev server, its root token."""
    from baoserver import machine

    return machine(env, isolated_home, bao_server, vault_prefix)


def pytest_terminal_summary(terminalreporter):
    """Figures that tests record as "fault figures" (the kill sweep's trials and logins lost)
    or "storm figures" (MCP clients' refresh grants beside mcp-remote's), printed at the end of
    the run, from every xdist worker too."""
    for section in ("fault figures", "storm figures"):
        lines = [
            value
            for outcome in ("passed", "failed")
            for report in terminalreporter.stats.get(outcome, [])
            for name, value in getattr(report, "user_properties", ())
            if name == section
        ]
        if lines:
            terminalreporter.section(section)
            for line in sorted(lines):
                terminalreporter.line(line)
