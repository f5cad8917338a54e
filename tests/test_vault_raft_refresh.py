"""A refresh storm on a three-node OpenBao Raft cluster whose leader is killed mid-refresh.

VAULT_ADDR names one node, as Vault's own CLI allows. What a machine sees when a node dies:
- a machine whose node is a standby rides out the election: its waiters retry Vault for up to
  one HTTP deadline, and the holder retries the save for as long as its lock stands, so the
  storm still ends in one refresh and a working login everywhere;
- a machine whose node is the dead leader cannot reach Vault at all (exit 4, one line) until
  that node is back, or until VAULT_ADDR names another node or a load balancer in front of the
  cluster (what Vault's deployment guides recommend);
- a standby answers reads from its own copy, which trails the leader: each process sends the
  index of its last answer, so it reads its own writes (the holder takes, marks and releases
  its lock in a row), and on a node back from the dead, its copy seconds behind, a machine
  waits for it to catch up rather than believe the spend marker of a refresh long saved.
"""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from baoserver import RaftCluster, machine
from clitools import run, start_token

pytestmark = [pytest.mark.real, pytest.mark.slow]
LOCK = "authsome/.locks/testsrv/default"  # KV v2 path of the refresh lock


def _machine(env, root: Path, node, token: str, server) -> dict:
    environ = {**machine(env, root, node, "authsome", token), "AUTHSOME_HTTP_TIMEOUT": "10"}
    folder = Path(environ["AUTHSOME_HOME"]) / "providers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "testsrv.json").write_text(json.dumps(server.provider()))
    return environ


def _storm(envs) -> list[tuple[int, str, str]]:

    procs = [start_token(e) for e in envs]
    results = [p.communicate(timeout=300) for p in procs]
    return [(p.returncode, out.strip(), err) for p, (out, err) in zip(procs, results, strict=True)]


def test_a_refresh_storm_survives_the_leader_being_killed(env, tmp_path, oauth_server):
    cluster = RaftCluster(tmp_path / "raft")
    try:
        leader = cluster.leader()
        standbys = [n for n in cluster.nodes if n is not leader]
        token = cluster.root_token
        envs = [
            _machine(env, tmp_path / f"m{i}", standbys[i % 2], token, oauth_server)
            for i in range(8)
        ]
        on_leader = _machine(env, tmp_path / "on-leader", leader, token, oauth_server)
        oauth_server.state.access_expires_in = 2
        oauth_server.state.refreshed_expires_in = 3600
        assert run(["login", "testsrv"], envs[0]).returncode == 0
        time.sleep(1.2)
        killed = threading.Event()
        held: dict = {}

        def kill_the_leader():  # as the refresh reaches the provider, in the holder's way
            if not killed.is_set():
                killed.set()
                # The holder marked its lock before it sent the refresh. Read now, from the
                # leader: afterwards the storm's takes and releases can push that version out
                # of the 10 that KV v2 keeps.
                try:
                    held.update(_current_lock(leader))
                finally:
                    os.kill(leader.proc.pid, signal.SIGKILL)

        oauth_server.state.on_refresh = kill_the_leader
        results = _storm(envs)
        assert killed.is_set(), [err for _, _, err in results]
        assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
        tokens = {out for _, out, _ in results}
        assert len(tokens) == 1 and tokens <= oauth_server.state.access
        assert oauth_server.state.count("/token", "refresh_token") == 1
        assert not oauth_server.state.revoked_families
        # The machine whose only node died cannot reach Vault: one line, exit 4.
        cut_off = run(["token", "testsrv"], on_leader)
        assert cut_off.returncode == 4 and "cannot reach" in cut_off.stderr, cut_off.stderr
        # Back as a standby once the holder's lock has expired, the old leader first answers
        # from its own copy, which Raft brings up to date only after a while (the new leader
        # backs off from a node that did not answer): there the lock, expired, still carries
        # the holder's spend marker, and the record still holds the token it spent. Its
        # machine does not take the marker at its word but waits for the copy to catch up,
        # then serves the same rotated tokens.
        assert held.get("spending") and not held.get("released"), held
        leader.proc.wait(10)
        time.sleep(max(0.0, held["expires_at"] + 0.5 - time.time()))
        leader.start()
        again = run(["token", "testsrv"], on_leader)
        assert (again.returncode, again.stdout.strip()) == (0, tokens.pop()), again.stderr
    finally:
        cluster.close()


def _current_lock(node) -> dict:
    return node.api("GET", f"secret/data/{LOCK}")["data"]["data"]
