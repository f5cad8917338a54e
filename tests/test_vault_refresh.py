"""Single-flight refresh across machines, against a real OpenBao (`bao server -dev`).

Each "machine" is an authsome with its own HOME and AUTHSOME_HOME, sharing nothing but the
Vault server (baoserver.machine). The OAuth server rotates refresh tokens and revokes the whole
login when a spent one comes back, so a refresh made twice, or a rotated token lost, shows up
as a revoked family or exit 7. Under CI=true a missing `bao` fails these tests.
"""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from baoserver import BaoServer, machine
from clitools import kill_with_helpers, login_due, run, start_token, wait_for

SCALE = 32


def _machines(base, root: Path, bao, prefix: str, server, count: int, **extra) -> list[dict]:
    envs = []
    for i in range(count):
        env = {**machine(base, root / f"m{i}", bao, prefix), **extra}
        folder = Path(env["AUTHSOME_HOME"]) / "providers"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "testsrv.json").write_text(json.dumps(server.provider()))
        envs.append(env)
    return envs


def _login_due(server, env):
    """Log in on one machine with an expired token, due for refresh with no current token to
    fall back on (clitools.login_due); without the short HTTP deadline that some tests give
    what comes after: the login is not what they test."""
    login_due(server, {k: v for k, v in env.items() if k != "AUTHSOME_HTTP_TIMEOUT"}, expired=True)


def _record(bao, prefix: str) -> dict:
    """The connection record in Vault, read as root."""
    return json.loads(bao.kv_read(f"{prefix}/testsrv/default")["record"])


def _live_refresh_tokens(server) -> list[str]:
    """The refresh tokens the server would still accept."""
    return [
        token
        for token, info in server.state.refresh.items()
        if not info["used"] and info["family"] not in server.state.revoked_families
    ]


def _grants(server) -> int:
    return server.state.count("/token", "refresh_token")


def test_32_machines_send_exactly_one_refresh(
    bao_server, vault_prefix, oauth_server, env, tmp_path
):
    envs = _machines(env, tmp_path, bao_server, vault_prefix, oauth_server, SCALE)
    _login_due(oauth_server, envs[0])
    before = _record(bao_server, vault_prefix)["secrets"]["access_token"]
    procs = [start_token(e) for e in envs]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * SCALE, [err for _, err in results]
    assert _grants(oauth_server) == 1
    assert not oauth_server.state.revoked_families
    tokens = {out.strip() for out, _ in results}
    assert len(tokens) == 1 and before not in tokens
    # Active as far as the server is concerned: issued by the one refresh, and not revoked.
    assert tokens <= oauth_server.state.access
    stored = _record(bao_server, vault_prefix)["secrets"]
    assert {stored["access_token"]} == tokens
    assert _live_refresh_tokens(oauth_server) == [stored["refresh_token"]]
    lock = bao_server.kv_read(f"{vault_prefix}/.locks/testsrv/default")
    assert lock["released"] is True


def _killed_mid_refresh(oauth_server, envs, spent: bool):
    """Start a refresh on machine 0 and SIGKILL it while the OAuth server holds the answer.

    `spent`: the server rotated the refresh token before the holder died (the answer was on
    its way); otherwise the request died before the server acted on it."""
    if spent:
        oauth_server.state.refresh_answer_delay = 60
    else:
        gate = {"first": True}

        def drop_the_first():
            if gate.pop("first", False):
                time.sleep(3)  # the holder is killed meanwhile
                return "drop"

        oauth_server.state.on_refresh = drop_the_first
    holder = start_token(envs[0])
    wait_for(lambda: _grants(oauth_server) == 1)
    kill_with_helpers(holder.pid)
    holder.wait(10)
    oauth_server.state.refresh_answer_delay = 0


@pytest.mark.slow  # ten seconds or more: its module starts early (conftest.py)
@pytest.mark.parametrize("spent", [True, False], ids=["token-spent", "request-lost"])
def test_a_stale_lock_is_taken_over_once_its_holders_grace_has_passed(
    bao_server, vault_prefix, oauth_server, env, tmp_path, spent
):
    # A 2 s HTTP deadline makes the lock's expiry 2 * 2 + 5 = 9 s (storage/vault/lock.py).
    envs = _machines(
        env, tmp_path, bao_server, vault_prefix, oauth_server, 4, AUTHSOME_HTTP_TIMEOUT="2"
    )
    _login_due(oauth_server, envs[0])
    _killed_mid_refresh(oauth_server, envs, spent)
    lock = bao_server.kv_read(f"{vault_prefix}/.locks/testsrv/default")
    assert not lock.get("released") and lock["expires_at"] - lock["taken_at"] == 9
    assert set(lock["spending"]) == {"host", "machine", "base", "at"}  # no secret in it
    later: list[float] = []  # when the refreshes after the kill reach the server
    oauth_server.state.on_refresh = lambda: later.append(time.time())
    start = time.monotonic()
    procs = [start_token(e) for e in envs[1:]]
    results = [p.communicate(timeout=120) for p in procs]
    # Whether the dead holder spent the refresh token cannot be told from here: once its lock
    # has expired, the others name its machine (exit 4) instead of sending the token again.
    assert [p.returncode for p in procs] == [4, 4, 4], [err for _, err in results]
    assert time.monotonic() - start < 9 + 20 and time.time() >= lock["expires_at"]
    assert all("authsome token testsrv on" in err for _, err in results)
    assert later == [] and not oauth_server.state.revoked_families
    # Two expiries after the token was sent, the holder's machine has had its chance to finish
    # a journal: the others go on. The answer is the honest one: a login the server revoked,
    # or a working one.
    time.sleep(max(0.0, lock["spending"]["at"] + 2 * 9 + 0.5 - time.time()))
    first = run(["token", "testsrv"], envs[1])
    assert len(later) == 1 and _grants(oauth_server) == 2
    again = run(["token", "testsrv"], envs[2])
    listed = json.loads(run(["list", "--json"], envs[1]).stdout)
    if spent:
        assert (first.returncode, again.returncode) == (7, 7), first.stderr + again.stderr
        assert "login testsrv --force" in again.stderr
        assert listed[0]["state"] == "needs login"
    else:
        assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
        assert first.stdout == again.stdout and first.stdout.strip() in oauth_server.state.access
        assert not oauth_server.state.revoked_families
        stored = _record(bao_server, vault_prefix)["secrets"]
        assert _live_refresh_tokens(oauth_server) == [stored["refresh_token"]]
        assert listed[0]["state"] == "connected"
    assert _grants(oauth_server) == 2


def test_machines_that_waited_see_the_failed_refresh_instead_of_each_retrying(
    bao_server, vault_prefix, oauth_server, env, tmp_path
):
    envs = _machines(env, tmp_path, bao_server, vault_prefix, oauth_server, 6)
    _login_due(oauth_server, envs[0])
    oauth_server.state.refresh_failure = (500, "text/html", "<html>oops</html>")
    oauth_server.state.refresh_delay = 3  # every machine is waiting on the lock when it fails
    procs = [start_token(e) for e in envs]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [8] * 6, [err for _, err in results]
    assert _grants(oauth_server) == 1
    # Whoever asks afterwards tries again, and the login was never harmed.
    oauth_server.state.refresh_failure, oauth_server.state.refresh_delay = None, 0
    out = run(["token", "testsrv"], envs[3])
    assert out.returncode == 0 and out.stdout.strip() in oauth_server.state.access, out.stderr
    assert _grants(oauth_server) == 2 and not oauth_server.state.revoked_families


@pytest.fixture
def own_bao(tmp_path):
    """A server of this test's own, which it seals or stops."""
    server = BaoServer(tmp_path / "bao")
    yield server
    if server.proc.poll() is None:
        os.kill(server.proc.pid, signal.SIGCONT)
    server.close()


def _outage(bao, how: str):
    """(start, end) of a Vault outage: sealed, or its process stopped (SIGSTOP): every call
    then hangs until the deadline, and the writes it had taken may land when it resumes."""
    if how == "sealed":
        return bao.seal, bao.unseal
    return (
        lambda: os.kill(bao.proc.pid, signal.SIGSTOP),
        lambda: os.kill(bao.proc.pid, signal.SIGCONT),
    )


@pytest.mark.parametrize("how", ["sealed", "stopped"])
def test_vault_down_as_the_rotated_token_returns_keeps_it_until_vault_is_back(
    own_bao, vault_prefix, oauth_server, env, tmp_path, how
):
    a, b = _machines(
        env, tmp_path, own_bao, vault_prefix, oauth_server, 2, AUTHSOME_HTTP_TIMEOUT="2"
    )
    _login_due(oauth_server, a)
    down, up = _outage(own_bao, how)
    oauth_server.state.on_refresh = down  # Vault goes as the refresh is answered
    out = run(["token", "testsrv"], a)
    # The rotated tokens are handed out, and kept, encrypted, in machine a's journal; one line
    # says so.
    assert out.returncode == 0, out.stderr
    new_access = out.stdout.strip()
    assert new_access in oauth_server.state.access
    (warning,) = [line for line in out.stderr.splitlines() if "kept them encrypted" in line]
    assert "next authsome command finishes the save" in warning
    (live,) = _live_refresh_tokens(oauth_server)
    journal = list((Path(a["AUTHSOME_HOME"]) / "journal").glob("*.pending"))
    assert len(journal) == 1
    assert live.encode() not in journal[0].read_bytes()
    assert new_access.encode() not in journal[0].read_bytes()
    # While Vault is down, each machine gets a one-line error (exit 4), and the journal stays.
    oauth_server.state.on_refresh = None
    during = run(["token", "testsrv"], b)
    assert during.returncode == 4, during.stderr
    assert ("sealed" if how == "sealed" else "did not answer within 2 s") in during.stderr
    assert journal[0].exists()
    up()
    # Vault is back: the next command on machine a finishes the save (compare-and-set against
    # the version it reads; a stopped server may have taken the write late, and then the
    # journal sees that Vault already has it), and machine b then sees the rotated tokens.
    again = run(["token", "testsrv"], a)
    assert (again.returncode, again.stdout.strip()) == (0, new_access), again.stderr
    assert not journal[0].exists()
    assert _record(own_bao, vault_prefix)["secrets"]["refresh_token"] == live
    other = run(["token", "testsrv"], b)
    assert (other.returncode, other.stdout.strip()) == (0, new_access), other.stderr
    assert _grants(oauth_server) == 1
    assert not oauth_server.state.revoked_families


# -- the lock itself, against the same real server ----------------------------------------------


def _lock(bao, prefix: str, clock=time.time, deadline=2.0):
    from authsome.storage.vault.client import VaultClient
    from authsome.storage.vault.config import resolve
    from authsome.storage.vault.lock import VaultLock

    settings = resolve({**bao.env(), "HOME": "/nonexistent"}, {"vault": {"prefix": prefix}}, Path())
    return VaultLock(VaultClient(settings, deadline), "testsrv/default", clock=clock)


def test_two_waiters_cannot_both_take_over_a_stale_lock(bao_server, vault_prefix):
    path = f"{vault_prefix}/.locks/testsrv/default"
    dead = {"holder": {"host": "gone", "pid": 1, "id": "dead"}, "expires_at": time.time() - 1}
    bao_server.api("POST", f"secret/data/{path}", {"data": dead})
    first, second = _lock(bao_server, vault_prefix), _lock(bao_server, vault_prefix)
    doc, version = first.client.read(first.path)
    assert first._free(doc) and second._free(doc)
    assert [first._take(version), second._take(version)] == [True, False]
    assert bao_server.kv_read(path)["holder"]["id"] == first.me["id"]


def test_a_holder_never_releases_a_lock_taken_over_from_it(bao_server, vault_prefix):
    path = f"{vault_prefix}/.locks/testsrv/default"
    slow = _lock(bao_server, vault_prefix)
    assert slow.acquire()
    # Past its expiry (2 * 2 + 5 s), as another machine's clock sees it: taken over.
    later = _lock(bao_server, vault_prefix, clock=lambda: time.time() + 10)
    assert later.acquire()
    slow.release()
    assert bao_server.kv_read(path)["holder"]["id"] == later.me["id"]
    assert not bao_server.kv_read(path).get("released")
    later.release()
    assert bao_server.kv_read(path)["released"] is True


def test_a_take_that_timed_out_but_landed_is_ours(bao_server, vault_prefix):
    lock = _lock(bao_server, vault_prefix)
    mine = {"holder": lock.me, "taken_at": time.time(), "expires_at": time.time() + 9}
    path = f"{vault_prefix}/.locks/testsrv/default"
    bao_server.api("POST", f"secret/data/{path}", {"data": mine})
    lock.sleep = lambda seconds: pytest.fail("waited for its own lock")
    assert lock.acquire() and lock.held
    lock.release()
    assert bao_server.kv_read(path)["released"] is True


def test_a_live_lock_is_waited_for_and_a_released_one_taken(bao_server, vault_prefix):
    holder, waiter = _lock(bao_server, vault_prefix), _lock(bao_server, vault_prefix)
    assert holder.acquire()
    waiter.sleep = lambda seconds: holder.release()  # released while the waiter waits
    assert waiter.acquire() and waiter.version is not None
    waiter.release()


def _rewrite_as_root(bao, prefix: str, conn) -> None:
    path = f"secret/data/{prefix}/{conn.provider}/{conn.connection}"
    bao.api("POST", path, {"data": {"record": conn.to_json()}})


@pytest.mark.parametrize("whose", ["ours", "another machine's"])
def test_a_conflicting_save_retries_only_over_its_own_record(
    bao_server, vault_prefix, vault_env, whose
):
    from authsome.factory import Context
    from authsome.storage.connections import Connection

    first = Connection("testsrv", secrets={"access_token": "at-1", "refresh_token": "rt-1"})
    Context(vault_env).connections.save(first)
    ctx = Context(vault_env)
    conn = ctx.connections.load("testsrv")  # the version the save will compare against
    conn.secrets = {"access_token": "at-2", "refresh_token": "rt-2"}
    # Meanwhile the record changes: our own earlier try that timed out but landed, or a
    # refresh by another machine.
    landed = Connection.from_json(conn.key, conn.to_json())
    if whose != "ours":
        landed.secrets = {"access_token": "at-3", "refresh_token": "rt-3"}
    _rewrite_as_root(bao_server, vault_prefix, landed)
    start = time.monotonic()
    kept = ctx.connections.commit(conn, "rt-1", budget=20)
    stored = _record(bao_server, vault_prefix)["secrets"]["refresh_token"]
    if whose == "ours":
        assert kept is None and stored == "rt-2"  # written on top of it, no journal
    else:
        # Never over another machine's newer record: kept in the journal at once, not after
        # retrying for the whole budget.
        assert kept is not None and stored == "rt-3"
        assert time.monotonic() - start < 15  # of a budget of 20


def test_rotated_tokens_in_one_journal_survive_another_machine_going_first(
    own_bao, vault_prefix, oauth_server, env, tmp_path
):
    """Review r5: machine a keeps the rotated tokens in its journal while Vault is sealed, and
    machine b asks first once Vault is back. b must not send the refresh token a spent: it
    names a, and a's next command stores the tokens in Vault for everyone."""
    a, b = _machines(
        env, tmp_path, own_bao, vault_prefix, oauth_server, 2, AUTHSOME_HTTP_TIMEOUT="2"
    )
    _login_due(oauth_server, a)
    oauth_server.state.on_refresh = own_bao.seal
    out = run(["token", "testsrv"], a)
    assert out.returncode == 0 and "kept them encrypted" in out.stderr, out.stderr
    new_access = out.stdout.strip()
    oauth_server.state.on_refresh = None
    own_bao.unseal()
    other = run(["token", "testsrv"], b)  # b happens to ask first: the old token has expired
    assert other.returncode == 4, other.stderr
    (line,) = other.stderr.strip().splitlines()
    assert "authsome token testsrv on" in line and "login testsrv --force" in line
    assert _grants(oauth_server) == 1 and not oauth_server.state.revoked_families
    again = run(["token", "testsrv"], a)
    assert (again.returncode, again.stdout.strip()) == (0, new_access), again.stderr
    other = run(["token", "testsrv"], b)
    assert (other.returncode, other.stdout.strip()) == (0, new_access), other.stderr
    assert _grants(oauth_server) == 1 and not oauth_server.state.revoked_families


def test_the_save_budget_ends_one_deadline_before_the_lock_expires(bao_server, vault_prefix):
    now = [time.time()]
    lock = _lock(bao_server, vault_prefix, clock=lambda: now[0], deadline=2.0)
    assert lock.acquire()
    assert lock.save_budget() == pytest.approx(9 - 2 - 1)
    now[0] += 2.0  # the provider took a whole deadline to answer
    assert lock.save_budget() == pytest.approx(9 - 2 - 2 - 1)
    now[0] += 10.0  # past the lock's expiry: one try, no retries
    assert lock.save_budget() == 0.0
    lock.release()


def test_a_token_that_expired_during_a_stalled_save_is_not_handed_out(
    own_bao, vault_prefix, oauth_server, env, tmp_path
):
    """#24 item 20: the save, retried against a stopped Vault, outlasts the new token's life.
    The holder checks the expiry again after the wait and, Vault being back, refreshes once
    more, instead of printing a token that has already expired."""
    (a,) = _machines(
        env, tmp_path, own_bao, vault_prefix, oauth_server, 1, AUTHSOME_HTTP_TIMEOUT="2"
    )
    _login_due(oauth_server, a)
    oauth_server.state.refreshed_expires_in = 4
    stop, resume = _outage(own_bao, "stopped")
    first = {"stall": True}

    def stall_the_first_save():
        if first.pop("stall", False):
            stop()  # Vault stops as the answer is on its way; back 5.5 s later
            threading.Timer(5.5, resume).start()

    oauth_server.state.on_refresh = stall_the_first_save
    out = run(["token", "testsrv"], a)
    printed_at = time.time()
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert oauth_server.state.expiry[token] > printed_at, "handed out an expired token"
    assert _grants(oauth_server) == 2 and not oauth_server.state.revoked_families
    assert _record(own_bao, vault_prefix)["secrets"]["access_token"] == token
