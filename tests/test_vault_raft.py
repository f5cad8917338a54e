"""The vault store on OpenBao servers that outlive a restart: a one-node Raft server stopped and
started again, and a three-node Raft cluster on loopback whose leader is killed; and a standby
that answers from a copy trailing the leader's."""

import time
from pathlib import Path

import pytest
from baoserver import BaoServer, RaftCluster, machine
from clitools import run

pytestmark = [pytest.mark.real, pytest.mark.slow]

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"


def _token(environ) -> str:
    out = run(["token", "openai"], environ)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_persistent_server_keeps_the_logins_across_a_restart(env, isolated_home, tmp_path):
    server = BaoServer(tmp_path / "bao", persistent=True)
    try:
        environ = machine(env, isolated_home, server, "authsome")
        assert run(["login", "openai"], environ, input=KEY + "\n").returncode == 0
        server.stop()
        out = run(["token", "openai"], environ)
        assert out.returncode == 4 and "cannot reach" in out.stderr
        server.start()  # the same port, unsealed again with the key from its init
        assert _token(environ) == KEY + "\n"
    finally:
        server.close()


def test_a_three_node_cluster_keeps_serving_after_its_leader_is_killed(env, tmp_path):
    cluster = RaftCluster(tmp_path / "raft")
    try:
        first = cluster.leader()
        followers = [n for n in cluster.nodes if n is not first]
        # A machine that talks to a standby: it forwards to the leader.
        environ = machine(env, tmp_path / "m1", followers[0], "authsome", cluster.root_token)
        assert run(["login", "openai"], environ, input=KEY + "\n").returncode == 0
        assert cluster.kill_leader() is first
        cluster.wait_for_leader()
        for node in followers:
            other = machine(env, tmp_path / node.addr[-5:], node, "authsome", cluster.root_token)
            assert _token(other) == KEY + "\n"
        first.start()  # it rejoins as a standby, with everything written meanwhile
        assert _token(machine(env, tmp_path / "m0", first, "authsome", cluster.root_token)) == (
            KEY + "\n"
        )
    finally:
        cluster.close()


class _Marks:
    """storage.pending.PendingSave's `mark`, without a connection behind it."""

    def mark(self, base_refresh_token: str) -> dict:
        return {"host": "here", "machine": "m", "base": "fp", "at": time.time()}


def test_a_standby_answers_this_process_after_its_own_writes(env, tmp_path):
    # OpenBao's standbys answer reads, and check a write's cas, from their own copy, which
    # trails the leader by about a heartbeat: a second write with cas = the version the first
    # returned failed there every time, until the client sent the index of its last answer.
    from authsome.storage.vault.client import VaultClient
    from authsome.storage.vault.config import resolve
    from authsome.storage.vault.lock import VaultLock

    cluster = RaftCluster(tmp_path / "raft")
    try:
        standby = next(n for n in cluster.nodes if n is not cluster.leader())
        vault = {"vault": {"prefix": "authsome"}}
        settings = resolve(
            {**standby.env(cluster.root_token), "HOME": "/nonexistent"}, vault, Path()
        )
        client = VaultClient(settings, deadline=5.0)
        for i in range(10):
            first = client.write(f"row/{i}", {"n": 1}, cas=0)
            assert client.write(f"row/{i}", {"n": 2}, cas=first) == first + 1
            assert client.read(f"row/{i}") == ({"n": 2}, first + 1)
        # The refresh lock writes three times in a row: taken, marked, released.
        lock = VaultLock(client, "testsrv/default", marks=_Marks())
        assert lock.acquire()
        lock.spend("a refresh token")
        lock.release()
        doc, version = client.read(lock.path)
        assert doc["released"] and version == 3
    finally:
        cluster.close()
