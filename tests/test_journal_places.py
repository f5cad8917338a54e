"""Where rotated tokens go when the store refuses them (#24: 16, 18), on real read-only and
immutable folders and a real full tmpfs: the journal, else its reserved spare, else
$XDG_RUNTIME_DIR; and a save that went through is never reported as failed.

The OAuth server rotates refresh tokens and revokes the whole login when a spent one comes
back, so a lost rotated token shows up as a revoked family.
"""

import json
import os
import signal
from pathlib import Path

import pytest
from clitools import run
from mounts import SmallDisk, immutable, read_only


def _token(env) -> str:
    out = run(["token", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _every_call_refreshes(server, env) -> None:
    """Log in with tokens that expire at once, and refresh once: the spare is then reserved."""
    server.state.access_expires_in = 0  # so each `token` refreshes, with no waiting
    out = run(["login", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    _token(env)
    assert server.state.count("/token", "refresh_token") == 1


def _alive(server, env) -> None:
    """The next `token` works, and no refresh token was ever sent twice."""
    assert _token(env) in server.state.access
    assert not server.state.revoked_families, "a spent refresh token was sent again"


def test_a_good_save_with_a_read_only_journal_folder_is_a_good_save(
    testsrv, unlocked_env, authsome_home
):
    """#24 item 18: the store takes the tokens; clearing a journal entry that is not there, on a
    read-only folder (EROFS), is no failure."""
    _every_call_refreshes(testsrv, unlocked_env)
    journal = authsome_home / "journal"
    with read_only(journal):
        out = run(["token", "testsrv"], unlocked_env)
        assert out.returncode == 0, out.stderr
        assert out.stderr == ""
        assert out.stdout.strip() in testsrv.state.access
        assert testsrv.state.count("/token", "refresh_token") == 2
        _alive(testsrv, unlocked_env)
    assert not list(journal.glob("*.pending"))


class Stall:
    """A keychain login whose daemon stops answering while a refresh answer is on its way."""

    def __init__(self, server, service, env):
        self.server, self.daemon, self.env = server, service.proc.pid, env
        server.state.on_refresh = lambda: os.kill(self.daemon, signal.SIGSTOP)

    def end(self) -> None:
        self.server.state.on_refresh = None
        os.kill(self.daemon, signal.SIGCONT)


@pytest.fixture
def stall(testsrv, fresh_secret_service, env, tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **env,
        **fresh_secret_service.env(),
        "AUTHSOME_BACKEND": "keychain",
        "XDG_RUNTIME_DIR": str(runtime),
    }
    _every_call_refreshes(testsrv, env)
    stall = Stall(testsrv, fresh_secret_service, env)
    try:
        yield stall
    finally:
        stall.end()


def test_tokens_the_keychain_and_a_read_only_journal_refuse_go_to_the_runtime_dir(
    testsrv, stall, authsome_home
):
    """#24 item 16: neither the store nor the journal can be written; $XDG_RUNTIME_DIR can."""
    env, runtime = stall.env, Path(stall.env["XDG_RUNTIME_DIR"])
    with read_only(authsome_home / "journal"):
        out = run(["token", "testsrv"], env)
        assert out.returncode == 0, out.stderr
        new = out.stdout.strip()
        assert new in testsrv.state.access  # the new token, though not saved in the store
        assert "did not answer within 3 s" in out.stderr, out.stderr
        assert "$XDG_RUNTIME_DIR" in out.stderr and "a restart empties it" in out.stderr
        assert out.stderr.count("\n") == 1
        kept = list(runtime.glob("authsome-journal/*/testsrv+default.pending"))
        assert len(kept) == 1 and str(kept[0]) in out.stderr
        assert new.encode() not in kept[0].read_bytes()  # sealed
        stall.end()
        # The next command, the journal still read-only, finishes the save from there.
        _alive(testsrv, env)
        assert not kept[0].exists()
    assert testsrv.state.count("/token", "refresh_token") == 3


def test_with_nowhere_to_keep_them_the_one_line_says_login_force(testsrv, stall, authsome_home):
    """#24 item 16: the store, the journal and its spare refuse, and there is no runtime dir."""
    env = {k: v for k, v in stall.env.items() if k != "XDG_RUNTIME_DIR"}
    with read_only(authsome_home / "journal"):
        out = run(["token", "testsrv"], env)
    assert out.returncode == 12, out.stderr
    assert out.stderr.count("\n") == 1
    assert "could not be saved" in out.stderr and "Read-only file system" in out.stderr
    assert "authsome login testsrv --force" in out.stderr


def test_a_journal_folder_that_takes_no_new_name_keeps_them_in_the_spare(
    testsrv, passphrase_env, tmp_path
):
    """#24 item 16: a full disk refuses the store; the journal folder takes no rename (EPERM),
    but the spare reserved in it can be written, which needs no new space."""
    disk = SmallDisk(tmp_path / "disk")
    try:
        home = disk.path / "home"
        (home / "providers").mkdir(parents=True, mode=0o700)
        (home / "providers" / "testsrv.json").write_text(json.dumps(testsrv.provider()))
        env = {**passphrase_env, "AUTHSOME_HOME": str(home)}
        _every_call_refreshes(testsrv, env)
        spare = home / "journal" / ".testsrv+default.spare"
        with immutable(home / "journal"):
            testsrv.state.on_refresh = disk.fill
            out = run(["token", "testsrv"], env)
            testsrv.state.on_refresh = None
            assert out.returncode == 0, out.stderr
            assert f"kept them encrypted in {spare}" in out.stderr
            assert "reserved spare file" in out.stderr and out.stderr.count("\n") == 1
            assert spare.read_bytes()[:1] == b"{"
            assert out.stdout.strip().encode() not in spare.read_bytes()
            disk.free()
            # The next command finishes the save from the spare, and zeroes it in place.
            _alive(testsrv, env)
            assert spare.read_bytes()[:1] == b"\0"
        assert not list((home / "journal").glob("*.pending"))
    finally:
        disk.unmount()
