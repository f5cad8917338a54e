"""Real external components for tests: a private D-Bus, gnome-keyring, shells.

When CI=true a missing component fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
{listen}
  <auth>EXTERNAL</auth>
  <policy context="default">{users}
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
KEYRING_PASSWORD = "authsome-test-keyring"


def require(binary: str) -> str:
    """The path of `binary`; skip (or fail under CI=true) when it is not installed."""
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} is not installed (apt-get install the package that provides it)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return path


def require_file(path: str, package: str) -> Path:
    """`path`; skip (or fail under CI=true) when the package that provides it is missing."""
    if not Path(path).exists():
        message = f"{path} is missing (apt-get install {package})"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return Path(path)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _name_owned(address: str, name: str) -> bool:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=address) as conn:
        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
        msg = new_method_call(bus, "NameHasOwner", "s", (name,))
        return bool(conn.send_and_get_reply(msg, timeout=2).body[0])


class PrivateBus:
    """A dbus-daemon --session of our own, with no service activation.

    `user` runs it as that other uid (its root must then be theirs); `abstract` listens on that
    abstract socket name too; `any_user` lets every uid connect, as a hostile bus would.
    """

    def __init__(self, root: Path, user=None, abstract=None, any_user=False):
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if user:
            os.chown(root, user, user)
        socket = root / "bus"
        self.socket = socket
        conf = root / "bus.conf"
        listen = [f"unix:path={socket}"] + ([f"unix:abstract={abstract}"] if abstract else [])
        conf.write_text(
            BUS_CONFIG.format(
                listen="\n".join(f"  <listen>{a}</listen>" for a in listen),
                users='\n    <allow user="*"/>' if any_user else "",
            )
        )
        self.proc = subprocess.Popen(
            [
                *(as_other_user([]) if user else []),
                require("dbus-daemon"),
                f"--config-file={conf}",
                "--nofork",
                "--nopidfile",
                "--print-address=1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            _kill(self.proc)
            pytest.fail("dbus-daemon printed no address")

    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def stop(self) -> None:
        _kill(self.proc)


class KnownBus:
    """A bus that something else runs, known by its address."""

    def __init__(self, address: str):
        self.address = address

    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}


class SecretService:
    """gnome-keyring-daemon's Secret Service on a private bus, unlocked with a test password.

    `bus` puts it on that bus instead of one of its own; `user` runs it as that other uid (see
    `other_users_dir`).
    """

    def __init__(self, root: Path, bus: PrivateBus | KnownBus | None = None, user=None):
        self.root = root
        self.own_bus = bus is None
        self.bus = bus or PrivateBus(root / "dbus", user=user, any_user=bool(user))
        self.home = root / "keyring-home"
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        # Its control socket is XDG_RUNTIME_DIR/keyring/control, and a unix socket's path
        # holds 107 bytes: under tmp_path (pytest-NNN/popen-gwN/<test>0/...) gnome-keyring cut
        # it to the folder's own path and exited. So a short folder of its own, in /tmp.
        import tempfile

        self.runtime = Path(tempfile.mkdtemp(prefix="authsome-gk-"))
        runtime = self.runtime
        if user:
            for path in (self.home, self.home / "data", runtime):
                os.chown(path, user, user)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_RUNTIME_DIR": str(runtime),
            **self.bus.env(),
        }
        log = open(root / "gnome-keyring.log", "wb")  # noqa: SIM115 - closed once it runs
        self.proc = subprocess.Popen(
            [
                *(as_other_user([]) if user else []),
                require("gnome-keyring-daemon"),
                "--foreground",
                "--unlock",
                "--components=secrets",
            ],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        log.close()
        self.proc.stdin.write(KEYRING_PASSWORD.encode())
        self.proc.stdin.close()
        deadline = time.monotonic() + 60  # a bound for a hang, far above any load's delay
        while not _name_owned(self.bus.address, "org.freedesktop.secrets"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                code = self.proc.poll()
                self.stop()
                said = (root / "gnome-keyring.log").read_text(errors="replace").strip()
                how = "still running after 60s" if code is None else f"exited with {code}"
                pytest.fail(f"gnome-keyring-daemon did not take its name ({how}): {said}")
            time.sleep(0.05)

    def env(self) -> dict[str, str]:
        return self.bus.env()

    def collection(self):
        """The default collection, opened with secretstorage (for test set-up)."""
        import secretstorage
        from jeepney.io.blocking import open_dbus_connection

        conn = open_dbus_connection(bus=self.bus.address)
        return secretstorage.get_default_collection(conn)

    def stop(self) -> None:
        _kill(self.proc)
        shutil.rmtree(self.runtime, ignore_errors=True)
        if self.own_bus:
            self.bus.stop()


class HungSecretService:
    """A process that owns org.freedesktop.secrets and never answers a call."""

    SCRIPT = """
import sys, time
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection, Proxy
conn = open_dbus_connection(bus=sys.argv[1])
Proxy(message_bus, conn).RequestName("org.freedesktop.secrets")
print("owned", flush=True)
time.sleep(3600)
"""

    def __init__(self, root: Path):
        self.bus = PrivateBus(root / "dbus")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, self.bus.address], stdout=subprocess.PIPE, text=True
        )
        if self.proc.stdout.readline().strip() != "owned":
            self.stop()
            pytest.fail("the hung service could not take its name")

    def env(self) -> dict[str, str]:
        return self.bus.env()

    def stop(self) -> None:
        _kill(self.proc)
        self.bus.stop()


class VirtualDisplay:
    """An X server of our own (Xvfb), for a browser window a test can drive."""

    def __init__(self):
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [
                require("Xvfb"),
                "-displayfd",
                str(write),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as numbers:
            number = numbers.readline().strip()
        if not number.isdigit():
            _kill(self.proc)
            pytest.fail("Xvfb printed no display number")
        self.display = f":{number}"

    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    def stop(self) -> None:
        _kill(self.proc)


OTHER_UID = 65534  # nobody: a second local user for the tests of what another user can do


@contextlib.contextmanager
def other_users_dir():
    """A fresh folder in /tmp that OTHER_UID owns, mode 0700, removed afterwards.

    pytest's tmp_path is root's and private, so the other user could not reach it.
    """
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="authsome-other-user-"))
    os.chown(path, OTHER_UID, OTHER_UID)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def as_other_user(argv: list[str]) -> list[str]:
    """`argv` run as uid/gid 65534 with no groups; needs root (skip, or fail under CI=true)."""
    if os.geteuid() != 0:
        message = "acting as a second local user needs root (setpriv drops to uid 65534)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return [
        require("setpriv"),
        f"--reuid={OTHER_UID}",
        f"--regid={OTHER_UID}",
        "--clear-groups",
        *argv,
    ]


def require_sandbox() -> None:
    """Skip (or fail under CI=true) unless bwrap can make a sandbox here (run --sandbox)."""
    from authsome.sandbox.checks import probe

    require("bwrap")
    found = probe(dict(os.environ))
    if not found["usable"]:
        message = f"the sandbox cannot run here: {found['detail']} ({found['fix']})"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
