"""The exfiltration battery: tests/exfiltrate.py runs inside `authsome run --proxy --sandbox`
as a hostile command that knows the layout, for each store (the encrypted file unlocked
through the kernel keyring; gnome-keyring on a D-Bus session) and as root and as a second uid.
Nothing it tries yields a secret; a request through the proxy still carries the credential.
"""

import contextlib
import errno
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN
from conftest import TEST_PASSPHRASE
from otherpython import other_users_authsome
from realparts import (
    KEYRING_PASSWORD,
    OTHER_UID,
    PrivateBus,
    SecretService,
    as_other_user,
    other_users_dir,
    require,
)

pytestmark = pytest.mark.real


@pytest.fixture(autouse=True)
def _sandbox_here():
    from realparts import require_sandbox

    require_sandbox()


EXFILTRATE = str(Path(__file__).with_name("exfiltrate.py"))
READ_KEY = """
import sys
from authsome.storage.file.userkeyring import open_keyring
print(open_keyring({})[0].get(sys.argv[1]).decode())
"""


class Victim:
    """A user logged in to testsrv, whose store is unlocked; `facts` is what the attacker
    knows, `secrets` what it must not learn."""

    def __init__(self, base: Path, uid: int, testsrv, api):
        self.base, self.uid, self.testsrv, self.api = base, uid, testsrv, api
        self.prefix = as_other_user([]) if uid else []
        # The other uid runs a copy it can reach (see otherpython), the command in the sandbox too.
        other = other_users_authsome() if uid else None
        self.bin = other.authsome if other else AUTHSOME_BIN
        self.python = other.python if other else sys.executable
        self.exfiltrate = other.copy_test_file("exfiltrate.py") if other else EXFILTRATE
        home = base / "home"
        (home / ".authsome" / "providers").mkdir(parents=True, mode=0o700)
        provider = testsrv.provider(hosts=[api.host])
        (home / ".authsome" / "providers" / "testsrv.json").write_text(json.dumps(provider))
        (base / "ca.pem").write_bytes(api.ca.read_bytes())
        self.env = {
            "PATH": f"{Path(self.bin).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "AUTHSOME_HOME": str(home / ".authsome"),
            "SSL_CERT_FILE": str(base / "ca.pem"),
            "LANG": "C.UTF-8",
        }
        self.secrets = {TEST_PASSPHRASE, KEYRING_PASSWORD}
        self.facts = {"authsome": self.bin, "provider": "testsrv", "api": api.url,
                      "direct": [["127.0.0.1", int(api.host.split(":")[1])],
                                 ["127.0.0.1", int(testsrv.url.rsplit(":", 1)[1])]],
                      "buses": [], "key_descriptions": [], "files": []}  # fmt: skip

    def own(self) -> None:
        if self.uid:
            for folder, dirs, files in os.walk(self.base):
                for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                    os.chown(name, self.uid, self.uid, follow_symlinks=False)

    def run(self, args, env=None, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, *args], env=env or self.env, capture_output=True,
                              text=True, timeout=120, start_new_session=True, cwd=self.base,
                              **kw)  # fmt: skip

    def authsome(self, *args, **env) -> subprocess.CompletedProcess:
        out = self.run([self.bin, *args], {**self.env, **env})
        assert out.returncode == 0, out.stderr
        return out

    def attack(self) -> tuple[dict, str]:
        self.facts["env"] = {k: v for k, v in self.env.items() if k not in ("PATH", "LANG")}
        self.facts["secrets_are_not_here"] = True
        path = self.base / "facts.json"
        path.write_text(json.dumps(self.facts))
        self.own()
        argv = ["run", "--proxy", "--sandbox", "testsrv", "--", self.python, self.exfiltrate]
        out = self.run([self.bin, *argv, str(path)])
        assert out.returncode == 0, out.stderr
        self.secrets |= set(self.testsrv.state.access) | set(self.testsrv.state.refresh)
        return json.loads(out.stdout), out.stdout + out.stderr


@contextlib.contextmanager
def _base(user: str, tmp_path: Path):
    if user == "root":
        (tmp_path / "victim").mkdir(mode=0o700)
        yield tmp_path / "victim", 0
        return
    with other_users_dir() as base:
        yield base, OTHER_UID


@pytest.fixture(params=["root", "nobody"])
def user(request):
    return request.param


@pytest.fixture
def file_victim(user, tmp_path, testsrv, api):
    """The encrypted file, unlocked for the whole login through the kernel keyring."""
    with _base(user, tmp_path) as (base, uid):
        victim = Victim(base, uid, testsrv, api)
        (base / "run").mkdir(mode=0o700)
        victim.env.update(AUTHSOME_BACKEND="file", XDG_RUNTIME_DIR=str(base / "run"))
        victim.own()
        victim.authsome("login", "testsrv", AUTHSOME_PASSPHRASE=TEST_PASSPHRASE)
        unlock = 'eval "$(authsome unlock)"'
        out = victim.run([require("bash"), "-c", unlock], {**victim.env,
                         "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})  # fmt: skip
        assert out.returncode == 0 and "for every shell of your login" in out.stderr, out.stderr
        victim.authsome("token", "testsrv")  # unlocked: no passphrase, no session variable
        description = f"authsome:session:{victim.env['AUTHSOME_HOME']}/vault"
        read = victim.run([victim.python, "-c", READ_KEY, description])
        victim.secrets.add(read.stdout.strip())
        assert len(read.stdout.strip()) > 40, read.stderr
        victim.facts["key_descriptions"] = [description]
        victim.facts["files"] = [victim.env["AUTHSOME_HOME"], str(base / "run")]
        try:
            yield victim
        finally:
            victim.run([victim.bin, "lock"])


@pytest.fixture
def keychain_victim(user, tmp_path, testsrv, api):
    """gnome-keyring's Secret Service on the user's D-Bus session, by path and abstract name."""
    with _base(user, tmp_path) as (base, uid):
        name = f"authsome-test-{secrets.token_hex(8)}"
        bus = PrivateBus(base / "dbus", user=uid or None, abstract=name, any_user=bool(uid))
        service = SecretService(base / "keyring", bus=bus, user=uid or None)
        try:
            victim = Victim(base, uid, testsrv, api)
            data = service.home / "data"
            victim.env.update(AUTHSOME_BACKEND="keychain", DBUS_SESSION_BUS_ADDRESS=bus.address,
                              XDG_DATA_HOME=str(data),
                              XDG_RUNTIME_DIR=str(service.runtime))  # fmt: skip
            victim.own()
            victim.authsome("login", "testsrv")
            victim.facts["buses"] = [bus.address, f"unix:abstract={name}"]
            victim.facts["files"] = [victim.env["AUTHSOME_HOME"], str(data / "keyrings"),
                                     victim.env["XDG_RUNTIME_DIR"]]  # fmt: skip
            yield victim
        finally:
            service.stop()
            bus.stop()


def _nothing_escaped(victim: Victim, results: dict, text: str) -> None:
    for name, result in results.items():
        if isinstance(result, dict) and "got" in result:
            assert result["got"] is None, (name, result)
    leaked = [s for s in victim.secrets if s and s in text]
    assert leaked == [], "a secret reached the sandboxed command"
    # The proxy still signs: the server saw the real credential on the command's POST.
    assert results["a request through the proxy"]["status"] == 200, results
    assert victim.api.seen[-1].removeprefix("Bearer ") in victim.testsrv.state.access
    # Only the sandbox's own processes are visible: its forwarder (pid 1) and the command.
    processes = results["processes"]
    assert sorted(map(int, processes)) == [1, results["self"]], processes
    assert processes["1"][3].endswith("authsome/sandbox/forwarder.py"), processes["1"]
    assert results["type into the terminal (TIOCSTI)"]["errno"] == errno.EPERM
    assert "Operation not permitted" in " ".join(results[_KEYS]["why"]), results[_KEYS]


_KEYS = "kernel keyrings @u @us @s, and every key in /proc/keys"


def test_the_file_store_unlocked_through_the_kernel_keyring_yields_nothing(file_victim):
    results, text = file_victim.attack()
    _nothing_escaped(file_victim, results, text)
    assert (
        "unknown provider 'testsrv'" in results["authsome token"]["why"]
    )  # its file is hidden too


def test_gnome_keyring_on_the_session_bus_yields_nothing(keychain_victim):
    results, text = keychain_victim.attack()
    _nothing_escaped(keychain_victim, results, text)
    why = " ".join(results["Secret Service over the session bus"]["why"])
    assert why.count("ConnectionRefusedError") == 2, why  # the socket path and the abstract name
