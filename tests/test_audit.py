"""The audit log: a line for each credential handed out, with who asked and no secret, written
by concurrent processes without mixing, rotated, turned off; and `authsome log` reading it."""

import io
import json
import os
import shlex
import signal
import subprocess
import sys

import pytest
from clitools import AUTHSOME_BIN, age, default_sigint, run
from conftest import TEST_PASSPHRASE
from realparts import require

from authsome.factory import Context
from authsome.services import audit
from authsome.services import log as audit_log

OPENAI_KEY = "sk-audit0123456789abcdefghijkl"
GIT_HOST = "git.audit.test"


def _lines(home) -> list[dict]:
    return [json.loads(raw) for raw in (home / "audit.log").read_bytes().splitlines()]


def _in_bash(env, *commands: str, stdin: str | None = None) -> None:
    """Run authsome commands from one real bash; the trailing `true` keeps bash from exec'ing
    the last one, so bash stays their parent."""
    script = "; ".join(f"{shlex.quote(AUTHSOME_BIN)} {c}" for c in commands) + "; true"
    out = subprocess.run(
        [require("bash"), "-c", script],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr


@pytest.fixture
def ctx(env, authsome_home):
    audit._warned.clear()
    context = Context(env, stderr=io.StringIO())
    context.home.ensure()
    return context


def test_every_credential_handed_out_is_a_line_naming_the_asking_shell(
    file_env, testsrv, install_provider, authsome_home
):
    install_provider(testsrv.provider(git={"hosts": [GIT_HOST], "username": "x-access-token"}))
    env = {**file_env, "OPENAI_API_KEY": OPENAI_KEY}
    _in_bash(env, "login testsrv", "login openai", "token openai", "env openai")
    _in_bash(env, "run openai -- true")
    age(env)  # due: the next use refreshes
    _in_bash(env, "git-credential get", stdin=f"protocol=https\nhost={GIT_HOST}\n\n")
    _in_bash(env, "logout openai")

    lines = _lines(authsome_home)
    got = [(d["event"], d["provider"], d["connection"]) for d in lines]
    assert got == [
        ("login", "testsrv", "default"),
        ("login", "openai", "default"),
        ("token", "openai", "default"),
        ("env", "openai", "default"),
        ("run", "openai", "default"),
        ("refresh", "testsrv", "default"),
        ("git-credential", "testsrv", "default"),
        ("logout", "openai", "default"),
    ]
    assert {d["parent"] for d in lines} == {"bash"}
    assert all(d["ppid"] != d["pid"] and d["time"].endswith("Z") for d in lines)
    assert lines[4]["argv0"] == "true"
    assert lines[6]["host"] == GIT_HOST
    assert (authsome_home / "audit.log").stat().st_mode & 0o777 == 0o600
    raw = (authsome_home / "audit.log").read_bytes()
    spent = {*testsrv.state.access, *testsrv.state.refresh}
    assert len(spent) >= 3  # the access and refresh tokens of the login, and the refreshed ones
    for secret in (OPENAI_KEY, TEST_PASSPHRASE, file_env["AUTHSOME_SESSION"], *spent):
        assert secret.encode() not in raw


def test_env_writes_a_line_per_connection_exported_and_none_for_a_skipped_one(
    file_env, authsome_home
):
    env = {**file_env, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "openai"], env).returncode == 0
    out = run(["env", "openai", "anthropic"], env)
    assert out.returncode != 0 and OPENAI_KEY in out.stdout  # anthropic: not logged in
    assert [(d["event"], d["provider"]) for d in _lines(authsome_home)][1:] == [("env", "openai")]


def test_the_log_is_created_0600_whatever_the_umask(ctx, authsome_home):
    old = os.umask(0)
    try:
        audit.record(ctx, "token", "openai", "default")
    finally:
        os.umask(old)
    assert (authsome_home / "audit.log").stat().st_mode & 0o777 == 0o600


def test_extras_never_carry_a_secret_or_a_query(ctx, authsome_home):
    bot = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    audit.record(
        ctx,
        "proxy",
        "telegram",
        "default",
        method="POST",
        host="api.telegram.org",
        path=f"/bot123456:{bot}/sendMessage?access_token=abc#frag",
    )
    audit.record(ctx, "run", "openai", "default", argv0=OPENAI_KEY)
    first, second = _lines(authsome_home)
    assert first["path"] == "/bot123456:[hidden]/sendMessage"
    assert first["method"] == "POST" and first["host"] == "api.telegram.org"
    assert second["argv0"] == "[hidden]"
    raw = (authsome_home / "audit.log").read_bytes()
    assert bot.encode() not in raw and OPENAI_KEY.encode() not in raw and b"abc" not in raw


@pytest.mark.parametrize("how", ["env", "config"])
def test_audit_can_be_turned_off(file_env, authsome_home, how):
    env = {**file_env, "OPENAI_API_KEY": OPENAI_KEY}
    if how == "env":
        env["AUTHSOME_AUDIT"] = "0"
    else:
        (authsome_home / "config.json").write_text('{"audit": false}')
    assert run(["login", "openai"], env).returncode == 0
    assert run(["token", "openai"], env).returncode == 0
    assert not (authsome_home / "audit.log").exists()


def test_an_unwritable_log_is_one_warning_and_never_an_exit_code(file_env, authsome_home):
    env = {**file_env, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "openai"], env).returncode == 0
    (authsome_home / "audit.log").unlink()
    (authsome_home / "audit.log").mkdir()  # os.open fails: a folder
    for cmd in (["token", "openai"], ["env", "openai"]):
        out = run(cmd, env)
        assert out.returncode == 0 and OPENAI_KEY in out.stdout
        warnings = out.stderr.splitlines()
        assert len(warnings) == 1 and "could not write the audit log" in warnings[0], out.stderr


def test_one_warning_per_process_however_many_lines_fail(ctx, authsome_home):
    (authsome_home / "audit.log").mkdir()
    for provider in ("openai", "github", "anthropic"):
        audit.record(ctx, "env", provider, "default")
    assert ctx.io.stderr.getvalue().count("could not write the audit log") == 1


def test_a_full_log_rotates_keeping_one_old_file(ctx, authsome_home, monkeypatch):
    monkeypatch.setattr(audit, "MAX_BYTES", 4000)
    for i in range(100):
        audit.record(ctx, "token", "openai", f"c{i}")
    current, old = authsome_home / "audit.log", authsome_home / "audit.log.1"
    assert current.stat().st_size <= 4000 and 3000 < old.stat().st_size <= 4000
    assert old.stat().st_mode & 0o777 == 0o600
    assert not (authsome_home / "audit.log.2").exists()
    shown, _ = audit_log.last(ctx, None, 30)  # read across the two files, oldest first
    assert [doc["connection"] for _, doc in shown] == [f"c{i}" for i in range(70, 100)]


def test_a_second_rotation_waiting_on_the_lock_keeps_the_full_old_log(ctx, authsome_home):
    """Two processes find the log full at once: the one that waited on the lock finds a new log
    and leaves it, or it would replace the full old log with a nearly empty one."""
    _write(ctx, *[("openai", f"c{i}") for i in range(20)])
    full = (authsome_home / "audit.log").read_bytes()
    need = len(full) // 20
    audit.MAX_BYTES, saved = len(full), audit.MAX_BYTES
    try:
        audit._rotate(ctx, authsome_home / "audit.log", need)  # the first process
        _write(ctx, ("openai", "new"))
        audit._rotate(ctx, authsome_home / "audit.log", need)  # the one that waited
    finally:
        audit.MAX_BYTES = saved
    assert (authsome_home / "audit.log.1").read_bytes() == full
    assert [d["connection"] for d in _lines(authsome_home)] == ["new"]


def test_a_loose_log_is_made_private_again(ctx, authsome_home):
    (authsome_home / "audit.log").write_bytes(b"")
    (authsome_home / "audit.log").chmod(0o644)
    audit.record(ctx, "token", "openai", "default")
    assert (authsome_home / "audit.log").stat().st_mode & 0o777 == 0o600


WRITER = """
import sys
from authsome.factory import Context
from authsome.services import audit
if sys.argv[2] != "0":
    audit.MAX_BYTES = int(sys.argv[2])
ctx = Context()
for i in range(50):
    audit.record(ctx, "proxy", "openai", sys.argv[1], method="GET", host="api.openai.com",
                 path="/v1/" + "segment/" * 40 + str(i))
"""


@pytest.mark.parametrize("cap", [0, 30000], ids=["no-rotation", "rotating"])
def test_concurrent_writers_never_mix_their_lines(env, authsome_home, cap):
    Context(env).home.ensure()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, f"w{n}", str(cap)], env=env)
        for n in range(8)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    raw = b"".join(
        p.read_bytes()
        for p in (authsome_home / "audit.log.1", authsome_home / "audit.log")
        if p.exists()
    )
    docs = [json.loads(line) for line in raw.splitlines()]  # every line whole
    if cap:
        assert (authsome_home / "audit.log.1").exists()
        assert (authsome_home / "audit.log").stat().st_size <= cap
    else:
        assert len(docs) == 400
        assert {d["connection"] for d in docs} == {f"w{n}" for n in range(8)}
        assert all(sum(d["connection"] == f"w{n}" for d in docs) == 50 for n in range(8))


def _write(ctx, *records):
    for provider, connection in records:
        audit.record(ctx, "token", provider, connection)


def test_log_filters_counts_and_prints_json(ctx, env, authsome_home):
    _write(ctx, ("github", "default"), ("openai", "default"), ("github", "work"))
    out = run(["log"], env)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()
    assert len(rows) == 3 and "github:work" in rows[2] and "token" in rows[0]
    assert f"({os.getppid()})" in rows[0]  # written in this process: its parent asked
    assert len(run(["log", "github"], env).stdout.splitlines()) == 2
    only = run(["log", "github:work"], env).stdout.splitlines()
    assert len(only) == 1 and "github:work" in only[0]
    assert len(run(["log", "github:default"], env).stdout.splitlines()) == 1
    assert run(["log", "-n", "1"], env).stdout.splitlines() == rows[2:]
    raw = run(["log", "--json", "-n", "2"], env).stdout
    assert raw.splitlines() == (authsome_home / "audit.log").read_text().splitlines()[1:]


def test_log_skips_a_torn_last_line_and_garbage(ctx, env, authsome_home):
    _write(ctx, ("github", "default"))
    with open(authsome_home / "audit.log", "ab") as f:
        f.write(b"not json\n[1, 2]\n")
    _write(ctx, ("openai", "default"))
    with open(authsome_home / "audit.log", "ab") as f:
        f.write(b'{"time": "2026-01-01T00:00:00.000Z", "event": "tok')  # a write cut off
    out = run(["log"], env)
    assert out.returncode == 0 and out.stderr == ""
    assert [r.split()[3] for r in out.stdout.splitlines()] == ["github", "openai"]
    assert len(run(["log", "--json"], env).stdout.splitlines()) == 2


def test_log_of_a_mistyped_provider_says_did_you_mean(ctx, env):
    _write(ctx, ("openai", "default"), ("gone", "default"))
    out = run(["log", "opnai"], env)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("authsome: unknown provider 'opnai'. Did you mean 'openai'?")
    # A provider removed since keeps its lines: they are shown, with no error.
    out = run(["log", "gone"], env)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 1
    # A known provider with no lines yet is no error either.
    out = run(["log", "github"], env)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_log_of_an_empty_home_prints_nothing(env):
    out = run(["log"], env)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_log_follow_prints_lines_written_later_and_ends_with_130_on_ctrl_c(ctx, env):
    _write(ctx, ("github", "default"), ("openai", "first"))
    proc = subprocess.Popen(
        [AUTHSOME_BIN, "log", "--follow", "-n", "1", "openai"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509 - it is sent SIGINT
    )
    try:
        # The last line is printed once the log has been read to its end: following from now.
        assert "openai:first" in proc.stdout.readline()
        _write(ctx, ("github", "work"), ("openai", "default"))  # only the second is selected
        line = proc.stdout.readline()
        assert "openai" in line and "token" in line and "first" not in line
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert proc.stdout.read() == "" and proc.stderr.read() == ""
    finally:
        proc.kill()
        proc.wait()


def test_log_follow_reads_on_after_a_rotation(ctx, monkeypatch):
    monkeypatch.setattr(audit, "MAX_BYTES", 600)
    seen = []
    offset = audit_log.last(ctx, None, 0)[1]

    def sleep(_):
        if len(seen) >= 6:
            raise KeyboardInterrupt
        _write(ctx, ("openai", f"c{len(seen)}"))  # each line a write; some rotate the log

    ctx.sleep = sleep
    with pytest.raises(KeyboardInterrupt):
        audit_log.follow(ctx, None, offset, lambda text, doc: seen.append(doc["connection"]))
    assert seen == [f"c{i}" for i in range(len(seen))] and len(seen) >= 6


def test_log_follow_reads_a_rotated_log_from_its_start_however_long(ctx, authsome_home):
    _write(ctx, ("openai", "old"))
    offset = audit_log.last(ctx, None, 0)[1]
    seen, polls = [], []

    def sleep(_):
        polls.append(1)
        if len(polls) == 1:  # rotated between two looks, the new log already longer
            os.replace(authsome_home / "audit.log", authsome_home / "audit.log.1")
            _write(ctx, *[("openai", f"c{i}") for i in range(5)])
        else:
            raise KeyboardInterrupt

    ctx.sleep = sleep
    with pytest.raises(KeyboardInterrupt):
        audit_log.follow(ctx, None, offset, lambda text, doc: seen.append(doc["connection"]))
    assert seen == [f"c{i}" for i in range(5)]


def test_a_first_command_in_a_new_home_writes_its_audit_lines_without_a_warning(env, tmp_path):
    """A bridge started before any login (the home not made yet) records its session in a home
    it makes, 0700, instead of warning that the log could not be written."""
    env = {**env, "AUTHSOME_HOME": str(tmp_path / "new-home"), "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    out = run(["mcp", "linear-mcp"], env, input=json.dumps(initialize) + "\n")
    assert out.returncode == 0, out.stderr
    assert "not logged in to linear-mcp" in out.stdout
    assert "could not write the audit log" not in out.stderr, out.stderr
    home = tmp_path / "new-home"
    assert os.stat(home).st_mode & 0o777 == 0o700
    assert [d.get("session") for d in _lines(home) if d["event"] == "mcp"] == ["start", "end"]
