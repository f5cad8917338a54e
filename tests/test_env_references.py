"""#28: `run --env-file`, references in the environment, and `inject`, end to end through the
installed command: real files, real bash children, the bundled providers, the test OAuth server."""

import json
import os
import stat
import subprocess
import sys

import pytest
from clitools import AUTHSOME_BIN, HOSTILE_PROVIDER, login_due, login_keys, run

OPENAI_KEY = "sk-0123456789abcdefghijklmn"
HOSTILE = "a'b\"c $HOME `id` $(id) \\ ! ünï 🔑 ;x"
DUMP = "import json, os, sys; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"


@pytest.fixture
def keys_env(file_env, install_provider, tmp_path):
    """openai (bundled) and hostile (quotes, $(...), non-ASCII) logged in; cwd a project."""
    install_provider(HOSTILE_PROVIDER)
    login_keys(
        file_env, [("openai", "OPENAI_API_KEY", OPENAI_KEY), ("hostile", "HOSTILE_KEY", HOSTILE)]
    )
    os.chdir(tmp_path)
    return file_env


def dump(env, *args, names=()):
    out = run(["run", "--no-masking", *args, "--", "python3", "-c", DUMP, *names], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


ENV_FILE = """\
# a committed .env: no secret in it
export OPENAI_API_KEY=authsome://openai/api_key   # the bundled provider
HOSTILE='authsome://hostile/api_key'
PLAIN="two words"  # left as it is
MULTI="line one
line two"
EMPTY=
"""


def test_run_env_file_resolves_references_and_keeps_the_rest(keys_env, tmp_path):
    (tmp_path / ".env").write_text(ENV_FILE)
    names = ["OPENAI_API_KEY", "HOSTILE", "PLAIN", "MULTI", "EMPTY"]
    assert dump(keys_env, "--env-file", ".env", names=names) == {
        "OPENAI_API_KEY": OPENAI_KEY,
        "HOSTILE": HOSTILE,
        "PLAIN": "two words",
        "MULTI": "line one\nline two",
        "EMPTY": "",
    }
    # Through bash too: the child's shell sees exactly the value.
    show = ["bash", "-c", 'printf %s "$HOSTILE"']
    out = run(["run", "--no-masking", "--env-file", ".env", "--", *show], keys_env)
    assert out.returncode == 0 and out.stdout == HOSTILE, out.stderr
    # The audit log says which connections were handed out, and to what; never a value.
    log = run(["log", "--json"], keys_env).stdout
    lines = [json.loads(line) for line in log.splitlines()]
    runs = {(d["provider"], d.get("argv0")) for d in lines if d["event"] == "run"}
    assert runs == {("openai", "python3"), ("hostile", "python3"), ("openai", "bash"),
                    ("hostile", "bash")}  # fmt: skip
    assert OPENAI_KEY not in log


def test_references_in_the_environment_are_resolved(keys_env):
    env = {**keys_env, "OPENAI_API_KEY": "authsome://openai/api_key", "MINE": "kept"}
    assert dump(env, names=["OPENAI_API_KEY", "MINE"]) == {
        "OPENAI_API_KEY": OPENAI_KEY,
        "MINE": "kept",
    }
    # Beside names, which export their own variables as before.
    env["H"] = "authsome://hostile/api_key"
    got = dump(env, "openai", names=["OPENAI_API_KEY", "H", "HOSTILE_KEY"])
    assert got == {"OPENAI_API_KEY": OPENAI_KEY, "H": HOSTILE, "HOSTILE_KEY": None}


def test_later_files_win_and_files_win_over_the_environment(keys_env, tmp_path):
    (tmp_path / "a.env").write_text("X=from-a\nY=from-a\nZ=authsome://nope/api_key\n")
    (tmp_path / "b.env").write_text("Y=authsome://openai/api_key\nZ=from-b\n")
    env = {**keys_env, "X": "from-shell", "W": "authsome://hostile/api_key"}
    got = dump(env, "--env-file", "a.env", "--env-file", "b.env", names=["X", "Y", "Z", "W"])
    # Z's reference in a.env is overridden by b.env, so it is never resolved.
    assert got == {"X": "from-a", "Y": OPENAI_KEY, "Z": "from-b", "W": HOSTILE}


def test_a_name_and_a_file_must_agree(keys_env, tmp_path):
    (tmp_path / "same.env").write_text("OPENAI_API_KEY=authsome://openai/api_key\n")
    assert dump(keys_env, "openai", "--env-file", "same.env", names=["OPENAI_API_KEY"]) == {
        "OPENAI_API_KEY": OPENAI_KEY
    }
    (tmp_path / "other.env").write_text("OPENAI_API_KEY=sk-something-else-entirely\n")
    out = run(["run", "openai", "--env-file", "other.env", "--", "true"], keys_env)
    assert out.returncode == 2 and "OPENAI_API_KEY is set both by openai" in out.stderr
    assert "sk-something" not in out.stderr


def test_with_an_env_file_and_no_names_only_the_files_variables(keys_env, tmp_path):
    (tmp_path / ".env").write_text("PLAIN=1\n")
    got = dump(keys_env, "--env-file", ".env", names=["PLAIN", "OPENAI_API_KEY", "HOSTILE_KEY"])
    assert got == {"PLAIN": "1", "OPENAI_API_KEY": None, "HOSTILE_KEY": None}


def test_proxy_gives_the_placeholder_for_what_it_serves(keys_env, tmp_path):
    (tmp_path / ".env").write_text("K=authsome://openai/api_key\nH=authsome://hostile/api_key\n")
    got = dump(keys_env, "--proxy", "openai", "--env-file", ".env", names=["K", "H"])
    assert got == {"K": "authsome-placeholder-openai", "H": HOSTILE}
    # No names: the proxy serves the connections the file references (openai has hosts).
    (tmp_path / "o.env").write_text("K=authsome://openai/api_key\n")
    got = dump(keys_env, "--proxy", "--env-file", "o.env", names=["K", "OPENAI_API_KEY"])
    assert got == {
        "K": "authsome-placeholder-openai",
        "OPENAI_API_KEY": "authsome-placeholder-openai",
    }
    # A connection other than the one the proxy serves: an error, not the wrong credential.
    (tmp_path / "w.env").write_text("K=authsome://openai:work/api_key\n")
    out = run(["run", "--proxy", "openai", "--env-file", "w.env", "--", "true"], keys_env)
    assert out.returncode == 15 and "the proxy serves openai, but" in out.stderr, out.stderr


BAD = [
    ("X=authsome://nosuch/api_key\n", 2, "f.env:1: X: unknown provider 'nosuch'"),
    ("X=authsome://openai:work/api_key\n", 3, "f.env:1: X: not logged in to openai:work"),
    ("X=authsome://openai/access_token\n", 15, "f.env:1: X: openai has no access_token"),
    ("X=authsome://openai/refresh_token\n", 15, "f.env:1: X: malformed reference"),
    ("X=authsome://openai\n", 15, "f.env:1: X: malformed reference"),
    ("A=1\n\nX='never closed\n", 15, "f.env:3: the single-quoted value of X is never closed"),
    ("A=1\nnot a line\n", 15, "f.env:2: unexpected text after not"),
    ("'A=B'=1\n", 15, "f.env:1: the key holds '='"),
]


@pytest.mark.parametrize(("text", "code", "message"), BAD)
def test_bad_input_is_one_line_and_the_child_never_starts(keys_env, tmp_path, text, code, message):
    (tmp_path / "f.env").write_text(text)
    out = run(["run", "--env-file", "f.env", "--", "touch", "started"], keys_env)
    assert (out.returncode, out.stdout) == (code, "")
    assert out.stderr.startswith(f"authsome: {message}") and out.stderr.count("\n") == 1
    assert not (tmp_path / "started").exists()


def test_a_missing_or_unreadable_env_file_is_exit_2(keys_env, tmp_path):
    out = run(["run", "--env-file", "missing.env", "--", "touch", "started"], keys_env)
    assert out.returncode == 2 and "cannot read env file missing.env: no such file" in out.stderr
    (tmp_path / "dir.env").mkdir()
    out = run(["run", "--env-file", "dir.env", "--", "touch", "started"], keys_env)
    assert out.returncode == 2 and "cannot read env file dir.env" in out.stderr
    assert not (tmp_path / "started").exists()


def test_a_malformed_reference_in_the_environment_stops_the_run(keys_env, tmp_path):
    env = {**keys_env, "X": "authsome://openai/"}
    out = run(["run", "openai", "--", "touch", "started"], env)
    assert out.returncode == 15 and "X in the environment: malformed reference" in out.stderr
    assert not (tmp_path / "started").exists()


TEMPLATE = """\
# config.yaml, from a template: every other byte stays
openai:
  key: "{{ authsome://openai/api_key }}"
  again: {{authsome://openai/api_key}}
helm: {{ .Values.kept }}
"""


def test_inject_renders_to_stdout_and_to_a_private_file(keys_env, tmp_path):
    (tmp_path / "t.tpl").write_text(TEMPLATE)
    expected = TEMPLATE.replace("{{ authsome://openai/api_key }}", OPENAI_KEY).replace(
        "{{authsome://openai/api_key}}", OPENAI_KEY
    )
    out = run(["inject", "-i", "t.tpl"], keys_env)
    assert (out.returncode, out.stdout) == (0, expected), out.stderr
    out = run(["inject", "-i", "t.tpl", "-o", "config.yaml"], keys_env)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    written = tmp_path / "config.yaml"
    assert written.read_text() == expected
    assert stat.S_IMODE(written.stat().st_mode) == 0o600

    written.chmod(0o644)  # someone let others read it: not silently filled with secrets
    written.write_text("old\n")
    out = run(["inject", "-i", "t.tpl", "-o", "config.yaml"], keys_env)
    assert out.returncode == 2 and "refusing to overwrite config.yaml" in out.stderr
    assert written.read_text() == "old\n"
    out = run(["inject", "-i", "t.tpl", "-o", "config.yaml", "--force"], keys_env)
    assert out.returncode == 0 and written.read_text() == expected
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_inject_bad_templates(keys_env, tmp_path):
    (tmp_path / "t.tpl").write_text("a: 1\nb: {{ authsome://openai/api_key\n")
    out = run(["inject", "-i", "t.tpl", "-o", "out"], keys_env)
    assert out.returncode == 15
    assert out.stderr == "authsome: t.tpl:2: a {{ is never closed. Close it with }}\n"
    (tmp_path / "t.tpl").write_text("a: {{ authsome://openai:work/api_key }}\n")
    out = run(["inject", "-i", "t.tpl", "-o", "out"], keys_env)
    assert out.returncode == 3 and "t.tpl:1: not logged in to openai:work" in out.stderr
    assert not (tmp_path / "out").exists()
    out = run(["inject", "-i", "missing.tpl"], keys_env)
    assert out.returncode == 2 and "cannot read template missing.tpl" in out.stderr


def test_a_field_the_login_lacks_is_one_line(testsrv, file_env, tmp_path):
    """OAuth providers have id_token; a login that was issued none says so."""
    assert run(["login", "testsrv"], file_env).returncode == 0
    (tmp_path / ".env").write_text("I=authsome://testsrv/id_token\n")
    out = run(["run", "--env-file", str(tmp_path / ".env"), "--", "true"], file_env)
    assert out.returncode == 15
    assert ".env:1: I: testsrv holds no id_token: its provider did not issue one" in out.stderr


def test_ten_runs_at_once_refresh_a_due_token_once(testsrv, unlocked_env, tmp_path):
    """A reference to an OAuth login takes `token`'s path: refreshed when due, by one process."""
    testsrv.state.refresh_delay = 0.3  # widen the race window
    login_due(testsrv, unlocked_env)
    (tmp_path / ".env").write_text("T=authsome://testsrv/access_token\n")
    argv = [AUTHSOME_BIN, "run", "--no-masking", "--env-file", str(tmp_path / ".env"), "--"]
    argv += ["python3", "-c"]
    argv += ["import os; print(os.environ['T'])"]
    procs = [
        subprocess.Popen(
            argv, env=unlocked_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(10)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, [e for _, e in results]
    assert testsrv.state.count("/token", "refresh_token") == 1
    tokens = {out.strip() for out, _ in results}
    assert len(tokens) == 1 and tokens <= testsrv.state.access  # the one new, valid token


def test_a_reference_never_sends_the_login_to_a_moved_token_endpoint(
    testsrv, file_env, install_provider, tmp_path
):
    """A provider file edited after login to point its token endpoint elsewhere gets nothing
    through a reference: refresh goes back to the login's own origin only (exit 7)."""
    from oauth_server import OAuthServer

    login_due(testsrv, file_env)
    elsewhere = OAuthServer()
    try:
        install_provider(testsrv.provider(oauth={"token_url": f"{elsewhere.url}/token"}))
        (tmp_path / ".env").write_text("T=authsome://testsrv/access_token\n")
        out = run(["run", "--env-file", str(tmp_path / ".env"), "--", "true"], file_env)
        assert out.returncode == 7 and ".env:1: T: the token endpoint" in out.stderr, out.stderr
        assert elsewhere.state.requests == []
    finally:
        elsewhere.stop()


PROBE = """
import json, os, sys
def exec_(*args):
    raise SystemExit(0)
os.execvpe = exec_
from authsome import main
try:
    main.main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""
NEW = {"authsome.formats.dotenvparse", "authsome.services.envfiles", "authsome.services.references"}


def test_plain_run_imports_nothing_of_env_files(keys_env):
    """`run` stays as it was unless --env-file or a reference in the environment asks."""

    def imported(env, *args):
        argv = [sys.executable, "-c", PROBE, "run", *args, "--", "true"]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return set(json.loads(out.stdout))

    assert not imported(keys_env, "openai") & NEW
    assert imported({**keys_env, "K": "authsome://openai/api_key"}, "openai") >= NEW
