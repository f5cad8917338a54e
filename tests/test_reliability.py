"""Never lose a login: rotated tokens under signals, full disks and stalled keychains; deadlines;
transient failures; a home, store and index that survive any crash.

The OAuth server here rotates refresh tokens and revokes the whole login when a spent one comes
back, as node-oidc-provider, Auth0 and Okta do, so a lost rotated token shows up as exit 7.
"""

import fcntl
import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from clitools import (
    AUTHSOME_BIN,
    age,
    ignore_sigint,
    kill_with_helpers,
    login_due,
    run,
    start_token,
    wait_for,
)
from mounts import SmallDisk

ROOT = Path(__file__).resolve().parents[1]


def _login(env, name="testsrv"):
    out = run(["login", name], env)
    assert out.returncode == 0, out.stderr


def _assert_login_alive(server, env):
    """The next `token` works, and no refresh token was ever used twice."""
    out = run(["token", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in server.state.access
    assert not server.state.revoked_families, "a spent refresh token was sent again"


# -- 1. a rotated refresh token is never lost -------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_refresh_waits_for_the_save(testsrv, unlocked_env, sig):
    login_due(testsrv, unlocked_env)
    testsrv.state.refresh_delay = 1.0  # the answer is in flight when the signal comes
    proc = start_token(unlocked_env)
    wait_for(lambda: testsrv.state.count("/token", "refresh_token") == 1, timeout=20.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    # The signal is honoured (Ctrl-C: exit 130; SIGTERM/SIGHUP: killed by it)...
    assert proc.returncode == (130 if sig == signal.SIGINT else -sig), err
    assert "saving the new tokens first" in err
    # ...but only after the rotated refresh token was stored. Wait until the server has spent
    # the old one, or the next call could slip in first and hide a lost token.
    wait_for(lambda: any(info["used"] for info in testsrv.state.refresh.values()))
    testsrv.state.refresh_delay = 0
    _assert_login_alive(testsrv, unlocked_env)


def test_an_ignored_sigint_stays_ignored_during_the_refresh(testsrv, unlocked_env):
    """#24 item 21: a job started with `&` from a script ignores SIGINT; authsome must neither
    promise to stop nor take the signal over."""
    login_due(testsrv, unlocked_env)
    testsrv.state.refresh_delay = 1.0
    proc = start_token(unlocked_env, preexec_fn=ignore_sigint)
    wait_for(lambda: testsrv.state.count("/token", "refresh_token") == 1, timeout=20.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopping right after" not in err
    assert out.strip() in testsrv.state.access
    testsrv.state.refresh_delay = 0
    _assert_login_alive(testsrv, unlocked_env)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system to hold the authsome home, and a way to fill it up."""
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.unmount()


def _home_on(disk, server, env) -> dict:
    """An authsome home on `disk`, with the test server's provider definition."""
    home = disk.path / "home"
    (home / "providers").mkdir(parents=True, mode=0o700)
    (home / "providers" / "testsrv.json").write_text(json.dumps(server.provider()))
    return {**env, "AUTHSOME_HOME": str(home)}


def test_a_full_disk_at_the_save_keeps_the_new_tokens_in_the_journal(
    testsrv, passphrase_env, small_disk
):
    env = _home_on(small_disk, testsrv, passphrase_env)
    login_due(testsrv, env)
    testsrv.state.on_refresh = small_disk.fill  # the disk fills while the answer is on its way
    out = run(["token", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in testsrv.state.access  # the new token, though not yet saved
    assert "kept them encrypted in" in out.stderr and "journal" in out.stderr
    journal = list((small_disk.path / "home" / "journal").glob("*.pending"))
    assert len(journal) == 1
    # Encrypted: neither token appears in the journal.
    assert out.stdout.strip().encode() not in journal[0].read_bytes()
    testsrv.state.on_refresh = None
    small_disk.free()
    # The next command finishes the save, and the login lives on.
    _assert_login_alive(testsrv, env)
    assert not list((small_disk.path / "home" / "journal").glob("*.pending"))
    assert testsrv.state.count("/token", "refresh_token") == 1


def test_a_full_disk_before_the_refresh_sends_nothing_and_names_the_cause(
    testsrv, passphrase_env, small_disk
):
    env = _home_on(small_disk, testsrv, passphrase_env)
    login_due(testsrv, env, expired=True)  # no current token to fall back on
    small_disk.fill()
    out = run(["token", "testsrv"], env)
    assert out.returncode == 12, out.stderr
    assert out.stderr.count("\n") == 1
    assert "No space left on device" in out.stderr and "free some disk space" in out.stderr.lower()
    # The old refresh token was never spent, so freeing space is all it takes.
    assert testsrv.state.count("/token", "refresh_token") == 0
    small_disk.free()
    _assert_login_alive(testsrv, env)


def test_a_keychain_that_stalls_at_the_save_loses_nothing(testsrv, fresh_secret_service, env):
    env = {**env, **fresh_secret_service.env(), "AUTHSOME_BACKEND": "keychain"}
    login_due(testsrv, env)
    daemon = fresh_secret_service.proc.pid
    testsrv.state.on_refresh = lambda: os.kill(daemon, signal.SIGSTOP)
    try:
        out = run(["token", "testsrv"], env)
    finally:
        testsrv.state.on_refresh = None
        os.kill(daemon, signal.SIGCONT)
    assert out.returncode == 0, out.stderr
    assert "did not answer within 3 s" in out.stderr and "journal" in out.stderr
    assert out.stdout.strip() in testsrv.state.access
    _assert_login_alive(testsrv, env)
    assert not list((Path(env["AUTHSOME_HOME"]) / "journal").glob("*.pending"))


# -- 2. creating a home never bricks it -------------------------------------------------------


def test_an_empty_version_file_in_a_new_home_is_a_creation_to_finish(passphrase_env, authsome_home):
    authsome_home.mkdir(mode=0o700)
    (authsome_home / "version").write_bytes(b"")  # what a kill used to leave behind
    out = run(["login", "openai"], {**passphrase_env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"})
    assert out.returncode == 0, out.stderr
    assert (authsome_home / "version").read_text() == "1\n"


def test_the_version_file_is_written_atomically(passphrase_env, authsome_home):
    out = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=rename,renameat,renameat2", AUTHSOME_BIN, "list"],
        env=passphrase_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert '/version"' in out.stderr  # a temp file renamed over it, never truncated in place


# -- 3. store and index agree after any crash -------------------------------------------------


def _kill_sweep(command, env, check, setup=lambda: None):
    """Run `command` under strace, killed at the Nth write, rename, unlink or fsync, for every N
    that the command reaches; `check()` runs after each kill."""
    kills = 0
    for syscall in ("write", "rename", "unlink", "fsync", "mkdir"):
        for n in range(1, 200):
            setup()
            out = subprocess.run(
                [
                    "strace",
                    "-f",
                    "-qq",
                    "-o",
                    "/dev/null",
                    "-e",
                    f"inject={syscall}:signal=KILL:when={n}",
                    AUTHSOME_BIN,
                    *command,
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if out.returncode == 0:
                break  # the command made fewer than n such calls
            assert out.returncode in (-9, 137), (syscall, n, out.stderr)
            kills += 1
            check(syscall, n)
    return kills


def _list_matches_token(env):
    listed = {
        f"{r['provider']}:{r['connection']}"
        for r in json.loads(run(["list", "--json"], env).stdout or "[]")
    }
    for ref in ("openai:default", "openai:work"):
        tok = run(["token", ref.replace(":default", "")], env)
        assert tok.returncode in (0, 3), tok.stderr
        assert (ref in listed) == (tok.returncode == 0), (ref, listed, tok.stderr)


def test_kill_9_at_every_step_of_a_login_leaves_a_working_home(unlocked_env, authsome_home):
    key = {"OPENAI_API_KEY": "sk-test-1234567890abcdef"}
    env = {**unlocked_env, **key}
    _login(env, "openai")

    def check(syscall, n):
        _list_matches_token(env)
        out = run(["login", "openai:work", "--force"], env)
        assert out.returncode == 0, (syscall, n, out.stderr)
        _list_matches_token(env)
        assert run(["logout", "openai:work"], env).returncode == 0

    kills = _kill_sweep(["login", "openai:work", "--force"], env, check)
    assert kills >= 10
    # Temp files of killed writers are cleaned by the next writer.
    assert not list(authsome_home.glob(".*.tmp"))
    print(f"kill -9 sweep over a login: {kills} kills")


def test_kill_9_at_every_step_of_a_logout_leaves_no_ghost(unlocked_env):
    env = {**unlocked_env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"}
    _login(env, "openai")

    def check(syscall, n):
        _list_matches_token(env)

    def setup():
        # Whatever state a kill left, logging in again works.
        out = run(["login", "openai:work", "--force"], env)
        assert out.returncode == 0, out.stderr

    kills = _kill_sweep(["logout", "openai:work"], env, check, setup)
    assert kills >= 5


def test_kill_9_during_the_first_login_in_a_new_home(passphrase_env, tmp_path):
    env = {**passphrase_env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"}

    def trial(syscall: str, n: int) -> bool:
        """A first login in a home of its own, killed at its nth `syscall`; whether it was."""
        home_env = {**env, "AUTHSOME_HOME": str(tmp_path / f"{syscall}{n}")}
        out = subprocess.run(
            ["strace", "-f", "-qq", "-o", "/dev/null", "-e"]
            + [f"inject={syscall}:signal=KILL:when={n}", AUTHSOME_BIN, "login", "openai"],
            env=home_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if out.returncode == 0:
            return False
        # The passphrase opens what the killed login left (or makes the file it never made);
        # then the session spares the next commands scrypt.
        unlock = run(["unlock"], home_env)
        assert unlock.returncode == 0, (syscall, n, unlock.stderr)
        session = {**home_env, "AUTHSOME_SESSION": unlock.stdout.split("'")[1]}
        del session["AUTHSOME_PASSPHRASE"]
        again = run(["login", "openai", "--force"], session)
        assert again.returncode == 0, (syscall, n, again.stderr)
        assert run(["token", "openai"], session).stdout.strip().startswith("sk-test")
        assert len(json.loads(run(["list", "--json"], session).stdout)) == 1
        return True

    # Each trial has its own home, so a few run at once (each pays scrypt at most twice).
    # They are read in order of n: the first login that was not killed ends the sweep.
    kills = 0
    with ThreadPoolExecutor(max_workers=3) as pool:
        for syscall in ("write", "rename", "mkdir"):
            for first in range(1, 60, 3):
                batch = [pool.submit(trial, syscall, n) for n in range(first, min(first + 3, 60))]
                killed = [f.result() for f in batch]
                kills += killed.index(False) if False in killed else len(killed)
                if False in killed:
                    break
    assert kills >= 5


def test_a_missing_or_damaged_index_is_rebuilt_from_the_store(unlocked_env, authsome_home):
    env = {**unlocked_env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"}
    _login(env, "openai")
    index = authsome_home / "index.json"
    for damage in (None, b"{not json", b'{"version": 1, "connections": {"x:y": 5}}'):
        if damage is None:
            index.unlink()
        else:
            index.write_bytes(damage)
        out = run(["list", "--json"], env)
        assert out.returncode == 0, out.stderr
        assert [r["provider"] for r in json.loads(out.stdout)] == ["openai"]
        assert "the index from" in out.stderr


def _edit_index_after_a_login(env, home, edit) -> dict:
    env = {**env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"}
    _login(env, "openai")
    index = home / "index.json"
    doc = json.loads(index.read_text())
    edit(doc)
    index.write_text(json.dumps(doc))
    return env


def test_an_index_entry_of_the_wrong_type_is_not_an_internal_error(unlocked_env, authsome_home):
    def soon(doc):
        doc["connections"]["openai:default"]["expires_at"] = "soon"

    env = _edit_index_after_a_login(unlocked_env, authsome_home, soon)
    out = run(["list"], env)
    assert out.returncode == 0, out.stderr
    assert "openai" in out.stdout


def test_an_index_from_a_newer_authsome_is_refused_and_left_alone(unlocked_env, authsome_home):
    env = _edit_index_after_a_login(unlocked_env, authsome_home, lambda doc: doc.update(version=99))
    index = authsome_home / "index.json"
    before = index.read_bytes()
    out = run(["login", "openai:work"], env)
    assert out.returncode == 6, out.stderr
    assert "format version 99" in out.stderr
    assert index.read_bytes() == before


# -- 4. deadlines, and waiters that do not pile up --------------------------------------------


def test_a_server_that_drips_bytes_hits_the_overall_deadline(testsrv, unlocked_env):
    env = {**unlocked_env, "AUTHSOME_HTTP_TIMEOUT": "2"}
    login_due(testsrv, env, expired=True)
    testsrv.state.drip_seconds = 1.0  # each read is fast; the whole answer takes 80 s
    start = time.monotonic()
    out = run(["token", "testsrv"], env)
    elapsed = time.monotonic() - start
    assert out.returncode == 8, out.stderr
    assert "did not answer within 2 s" in out.stderr
    assert elapsed < 10


@pytest.mark.parametrize("fault", ["hang", "500"])
def test_waiters_see_a_failed_refresh_instead_of_each_retrying(testsrv, unlocked_env, fault):
    env = {**unlocked_env, "AUTHSOME_HTTP_TIMEOUT": "3"}
    login_due(testsrv, env, expired=True)
    if fault == "hang":
        testsrv.state.refresh_delay = 30
    else:
        testsrv.state.refresh_failure = (500, "text/html", "<html>oops</html>")
        testsrv.state.refresh_delay = 1.5  # all six are waiting on the lock when it fails
    start = time.monotonic()
    procs = [start_token(env) for _ in range(6)]
    results = [p.communicate(timeout=120) for p in procs]
    elapsed = time.monotonic() - start
    assert [p.returncode for p in procs] == [8] * 6, [e for _, e in results]
    assert testsrv.state.count("/token", "refresh_token") == 1
    if fault == "hang":
        assert elapsed < 3 + 10, elapsed  # one deadline, not six in a row


# -- 5. transient failures are not authorization failures -------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        (503, "text/html", "<html>Service Unavailable</html>"),
        (429, "application/json", '{"error": "rate_limited"}'),
        (502, "application/json", '{"error": "server_error"}'),
        (200, "text/html", "<html>Welcome to the captive portal</html>"),
        (400, "application/json", '{"error": "slow_down"}'),
        (400, "application/json", '{"error": "temporarily_unavailable"}'),
    ],
)
def test_transient_refresh_failures_exit_8_and_keep_the_login(testsrv, unlocked_env, failure):
    login_due(testsrv, unlocked_env, expired=True)
    testsrv.state.refresh_failure = failure
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 8, out.stderr
    assert "try again" in out.stderr and "login --force" not in out.stderr
    rows = json.loads(run(["list", "--json"], unlocked_env).stdout)
    assert rows[0]["state"] != "needs login"
    testsrv.state.refresh_failure = None
    _assert_login_alive(testsrv, unlocked_env)


def test_a_due_token_is_still_handed_out_when_the_refresh_fails(testsrv, unlocked_env):
    _login(unlocked_env)
    before = run(["token", "testsrv"], unlocked_env).stdout
    age(unlocked_env)  # due, with a minute left
    testsrv.state.refresh_failure = (503, "text/html", "<html>down</html>")
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == before
    assert "using the current token, which expires in" in out.stderr
    assert testsrv.state.count("/token", "refresh_token") == 1


@pytest.mark.parametrize("code", ["invalid_client", "unauthorized_client"])
def test_dead_client_errors_mark_the_login(testsrv, unlocked_env, code):
    login_due(testsrv, unlocked_env, expired=True)
    testsrv.state.refresh_failure = (401, "application/json", json.dumps({"error": code}))
    assert run(["token", "testsrv"], unlocked_env).returncode == 7
    rows = json.loads(run(["list", "--json"], unlocked_env).stdout)
    assert rows[0]["state"] == "needs login"


def test_a_5xx_during_device_polling_is_retried(testsrv, passphrase_env):
    testsrv.state.poll_failures = 1
    testsrv.state.approve_after_polls = 0
    out = run(["login", "testsrv"], {**passphrase_env}, timeout=90)
    assert out.returncode == 0, out.stderr
    assert "did not answer properly" in out.stderr


# -- 6/7. environment problems and damage are never "internal error" --------------------------


def _no_internal_error(out):
    assert out.returncode != 1, out.stderr
    assert "internal error" not in out.stderr
    assert out.stderr.count("\n") <= 2, out.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage,code",
    [
        ("locks_is_a_file", 12),
        ("vault_is_a_dir", 12),
        ("index_is_a_dir", 12),
        ("kdf_n_not_power_of_two", 6),
        ("kdf_p_zero", 6),
        ("kdf_n_huge", 6),
    ],
)
def test_a_damaged_home_gets_a_one_line_error(passphrase_env, authsome_home, damage, code):
    env = {**passphrase_env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"}
    _login(env, "openai")
    vault = authsome_home / "vault"
    if damage == "locks_is_a_file":
        import shutil

        shutil.rmtree(authsome_home / "locks")
        (authsome_home / "locks").write_text("")
    elif damage in ("vault_is_a_dir", "index_is_a_dir"):
        target = vault if damage == "vault_is_a_dir" else authsome_home / "index.json"
        target.unlink()
        target.mkdir()
    else:
        doc = json.loads(vault.read_text())
        doc["kdf"].update(
            {"kdf_n_not_power_of_two": {"n": 100000}, "kdf_p_zero": {"p": 0}}.get(
                damage, {"n": 2**22}
            )
        )
        vault.write_text(json.dumps(doc))
    start = time.monotonic()
    out = run(["login", "openai:work"], env)
    _no_internal_error(out)
    assert out.returncode == code, out.stderr
    assert time.monotonic() - start < 10  # n = 2^22 is refused before it is tried
    if code == 6:
        assert "damaged" in out.stderr


@pytest.mark.parametrize("content", ["[]", "[" * 100_000 + "]" * 100_000])
def test_a_provider_file_that_is_not_an_object_is_invalid_configuration(
    passphrase_env, authsome_home, content
):
    folder = authsome_home / "providers"
    folder.mkdir(parents=True)
    (folder / "openai.json").write_text(content)
    out = run(["login", "openai"], {**passphrase_env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"})
    _no_internal_error(out)
    assert out.returncode == 9, out.stderr


def test_a_read_only_home_is_exit_12(passphrase_env, tmp_path):
    home = SmallDisk(tmp_path / "ro").path
    try:
        env = {**passphrase_env, "AUTHSOME_HOME": str(home / "h")}
        subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        out = run(["login", "openai"], {**env, "OPENAI_API_KEY": "sk-test-1234567890abcdef"})
        _no_internal_error(out)
        assert out.returncode == 12, out.stderr
        assert "Read-only file system" in out.stderr
    finally:
        subprocess.run(["umount", "-l", str(home)], check=False)


# -- 8. hostile token answers (issue 12, item 8) ----------------------------------------------


@pytest.mark.parametrize(
    "raw,dropped",
    [
        ('{"access_token": "@AT@", "refresh_token": "@RT@", "expires_in": 1e400}', "expires_in"),
        ('{"access_token": "@AT@", "refresh_token": "@RT@", "id_token": 5}', "id_token"),
    ],
)
def test_a_partly_invalid_token_answer_keeps_what_is_valid(
    testsrv, unlocked_env, install_provider, raw, dropped
):
    exports = {"access_token": "TESTSRV_TOKEN", "id_token": "TESTSRV_ID_TOKEN"}
    install_provider(testsrv.provider(export={"env": exports}))
    login_due(testsrv, unlocked_env)
    testsrv.state.refresh_raw = raw
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 0, out.stderr
    testsrv.state.refresh_raw = None
    exported = run(["env", "testsrv", "--shell", "bash"], unlocked_env)
    assert exported.returncode == 0, exported.stderr  # a stored number broke every env
    assert f"invalid {dropped}" in out.stderr
    _assert_login_alive(testsrv, unlocked_env)


def test_deeply_nested_and_huge_answers_are_network_errors(testsrv, unlocked_env):
    login_due(testsrv, unlocked_env, expired=True)
    testsrv.state.refresh_failure = (200, "application/json", "[" * 100_000 + "]" * 100_000)
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 8, out.stderr
    _no_internal_error(out)
    testsrv.state.refresh_failure = (200, "application/json", " " * (3 << 20))
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 8, out.stderr
    assert "larger than 1 MiB" in out.stderr


def test_refresh_tokens_go_only_to_the_endpoint_that_issued_them(
    testsrv, unlocked_env, install_provider
):
    login_due(testsrv, unlocked_env, expired=True)
    moved = testsrv.provider()
    moved["oauth"]["token_url"] = moved["oauth"]["token_url"].replace("127.0.0.1", "localhost")
    install_provider(moved)
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 7, out.stderr
    assert "moved from http://127.0.0.1" in out.stderr
    assert testsrv.state.count("/token", "refresh_token") == 0


def test_a_login_whose_provider_lost_its_oauth_section_is_an_error_not_a_crash(
    testsrv, unlocked_env, install_provider
):
    """Found by mypy: a due login whose provider is now an api_key one (no oauth section) was
    refreshed through provider.oauth, which is None: an internal error."""
    login_due(testsrv, unlocked_env, expired=True)
    changed = testsrv.provider(auth_type="api_key", flow="api_key")
    del changed["oauth"]
    install_provider(changed)
    out = run(["token", "testsrv"], unlocked_env)
    assert out.returncode == 7, out.stderr
    _no_internal_error(out)
    assert "names no token endpoint now" in out.stderr
    assert out.stderr.rstrip().endswith("Run: authsome login testsrv --force")
    assert testsrv.state.count("/token", "refresh_token") == 0


def test_a_loopback_port_in_use_is_a_usage_error(testsrv, passphrase_env):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        out = run(["login", "testsrv", "--flow", "pkce", "--port", str(port)], passphrase_env)
    finally:
        taken.close()
    _no_internal_error(out)
    assert out.returncode == 2, out.stderr
    assert f"port {port} on 127.0.0.1 is in use" in out.stderr


def _waits_for_flock(path: Path) -> bool:
    """Whether a process is blocked on an flock of `path` (a "->" line of /proc/locks)."""
    inode = os.stat(path).st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and f":{inode} " in line for line in lines)


def test_a_refresh_killed_at_its_save_is_finished_from_the_raw_answer(testsrv, unlocked_env):
    """#24 item 17: the answer goes into the journal before it is parsed. The store's write
    waits for its lock (held here), and the command and its helper are killed there (SIGKILL:
    the OOM killer, the machine going down); the next command makes the new record from the
    journalled answer, and the rotated refresh token lives on."""
    login_due(testsrv, unlocked_env)
    lock = Path(unlocked_env["AUTHSOME_HOME"]) / "locks" / "vault.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the save of the refreshed record cannot finish
        proc = start_token(unlocked_env)
        wait_for(lambda: testsrv.state.count("/token", "refresh_token") == 1)
        wait_for(lambda: _waits_for_flock(lock))  # the answer is in; the save waits
        kill_with_helpers(proc.pid)
        proc.communicate(timeout=30)
    finally:
        os.close(fd)
    _assert_login_alive(testsrv, unlocked_env)
    assert testsrv.state.count("/token", "refresh_token") == 1  # finished, not refreshed again


def _child_running(pid: int, arg: str) -> int | None:
    """The pid of a child of `pid` that has `arg` among its arguments, if any."""
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and arg.encode() in cmdline.split(b"\0"):
            return int(entry)
    return None


def test_a_killed_token_command_does_not_hold_up_its_command_substitution(testsrv, unlocked_env):
    """#24 item 17: the helper that finishes the refresh keeps no stdout or stderr of the
    command's open, so `$(authsome token x)` returns as soon as the command is killed, while
    the helper goes on and saves the rotated tokens."""
    login_due(testsrv, unlocked_env)
    answered = []
    testsrv.state.on_refresh_stage = lambda stage, form: answered.append(stage == "answered")
    # The answer is held until the shell has returned (or has waited 8 s, as long as a fixed
    # hold lasted before): the helper is still waiting for it meanwhile.
    gate = testsrv.state.refresh_gate = threading.Event()
    shell = subprocess.Popen(
        ["sh", "-c", f'x=$("{AUTHSOME_BIN}" token testsrv 2>&1); echo "got:$x"'],
        env=unlocked_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_for(lambda: testsrv.state.count("/token", "refresh_token") == 1)
    os.kill(_child_running(shell.pid, "token"), signal.SIGKILL)  # authsome, not the shell
    try:
        out, _ = shell.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        out = "(the shell is still waiting)"
    gate.set()
    assert out == "got:\n" and not any(answered), "the shell waited for the helper"
    _assert_login_alive(testsrv, unlocked_env)  # waits for the helper's save
    assert testsrv.state.count("/token", "refresh_token") == 1
