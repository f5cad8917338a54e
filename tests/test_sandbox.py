"""`authsome run --proxy --sandbox` with real clients and real failures: curl, requests and
git work through it; what it hides is gone; bwrap missing, user namespaces off, a command not
found, the forwarder or authsome dying each end in one line, and the command never runs
unsandboxed. The exfiltration battery is tests/test_sandbox_battery.py."""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, logged_in_behind, run, wait_for
from realparts import require

pytestmark = pytest.mark.real


@pytest.fixture(autouse=True)
def _sandbox_here():
    from realparts import require_sandbox

    require_sandbox()


@pytest.fixture
def proxy_env(file_env, testsrv, install_provider, api):
    return logged_in_behind(file_env, testsrv, install_provider, api)


def _sandboxed(env, *command, options=(), **kw):
    argv = ["run", "--proxy", "--sandbox", *options, "testsrv", "--", *command]
    return run(argv, env, **kw)


def _token_of(answer: str) -> str:
    return json.loads(answer)["authorization"].removeprefix("Bearer ")


def test_curl_and_requests_get_the_credential_the_child_never_holds(proxy_env, api, testsrv):
    curl = require("curl")
    out = _sandboxed(proxy_env, curl, "-sS", f"{api.url}/echo")
    assert out.returncode == 0, out.stderr
    assert _token_of(out.stdout) in testsrv.state.access
    code = f"import requests; print(requests.get('{api.url}/echo', timeout=20).text)"
    out = _sandboxed(proxy_env, sys.executable, "-c", code)
    assert out.returncode == 0, out.stderr
    assert _token_of(out.stdout) in testsrv.state.access


def test_git_clones_through_the_sandboxed_proxy(file_env, testsrv, install_provider, tmp_path):
    from realparts import require_file
    from test_git_helper import _bare_repo
    from tlsservers import GIT_HTTP_BACKEND, GitServer

    git = require("git")
    require_file(GIT_HTTP_BACKEND, "git")
    (tmp_path / "forge").mkdir()
    _bare_repo(tmp_path / "forge")
    forge = GitServer(tmp_path / "forge", tmp_path, lambda t: t in testsrv.state.access)
    try:
        install_provider(testsrv.provider(hosts=[forge.host]))
        env = {**file_env, "SSL_CERT_FILE": str(forge.ca), "GIT_TERMINAL_PROMPT": "0",
               "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
        assert run(["login", "testsrv"], env).returncode == 0
        helper = '!f() { echo username=x-access-token; echo "password=$TESTSRV_TOKEN"; }; f'
        clone = [git, "-c", "credential.helper=", "-c", f"credential.helper={helper}", "clone",
                 "-q", f"{forge.url}/repo.git", str(tmp_path / "clone")]  # fmt: skip
        out = _sandboxed(env, *clone)
        assert out.returncode == 0, out.stderr
        assert (tmp_path / "clone" / "README").read_text() == "hello from the test forge\n"
        assert forge.seen and all(p in testsrv.state.access for p in forge.seen), forge.seen
    finally:
        forge.stop()


def test_the_folder_stays_and_what_is_hidden_is_gone(proxy_env, tmp_path):
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "credentials").write_text("aws-secret")
    (tmp_path / "token-file").write_text("file-secret")
    (tmp_path / "project").mkdir()
    script = (
        'pwd; ls -A "$1"; cat "$2"; echo "home:$(ls -A "$3" | wc -l)";'
        ' env | grep -c -E "^(AUTHSOME_|VAULT_|BAO_|DBUS_SESSION_BUS_ADDRESS=)"'
    )
    home = proxy_env["AUTHSOME_HOME"]
    env = {**proxy_env, "VAULT_ADDR": "https://vault.example", "DBUS_SESSION_BUS_ADDRESS": "x"}
    hide = ["--hide", str(tmp_path / "aws"), "--hide", str(tmp_path / "token-file")]
    args = ["sh", "-c", script, "sh", tmp_path / "aws", tmp_path / "token-file", home]
    out = _sandboxed(env, *map(str, args), options=hide, cwd=tmp_path / "project")
    assert out.stdout.split("\n") == [str(tmp_path / "project"), "home:0", "0", ""], out.stderr
    assert "secret" not in out.stdout


def test_a_folder_inside_what_is_hidden_is_refused(proxy_env):
    home = Path(proxy_env["AUTHSOME_HOME"])
    out = _sandboxed(proxy_env, "true", cwd=home)
    assert out.returncode == 2
    assert out.stderr == (
        f"authsome: the current folder is inside {home}, which the sandbox hides."
        " Run from another folder\n"
    )


@pytest.fixture
def agent(tmp_path):
    """A unix socket where SSH_AUTH_SOCK points, standing in for ssh-agent."""
    path = tmp_path / "agent.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    yield str(path)
    listener.close()


def test_the_ssh_agent_only_when_asked(proxy_env, agent):
    env = {**proxy_env, "SSH_AUTH_SOCK": agent}
    code = (
        "import os, socket\n"
        "print(os.environ.get('SSH_AUTH_SOCK'))\n"
        "try:\n"
        f"    socket.socket(socket.AF_UNIX).connect({agent!r}); print('connected')\n"
        "except OSError as e:\n"
        "    print('refused')\n"
    )
    out = _sandboxed(env, sys.executable, "-c", code)
    assert out.stdout.split() == ["None", "refused"], out.stderr
    out = _sandboxed(env, sys.executable, "-c", code, options=["--ssh-agent"])
    assert out.stdout.split() == [agent, "connected"], out.stderr


def test_exit_status_and_signals_pass_through(proxy_env, tmp_path):
    assert _sandboxed(proxy_env, "sh", "-c", "exit 3").returncode == 3
    assert _sandboxed(proxy_env, "sh", "-c", "kill -TERM $$").returncode == -15
    # A SIGTERM sent to authsome reaches the command, inside the sandbox's pid namespace.
    started, caught = tmp_path / "started", tmp_path / "caught"
    script = (f'trap "touch {caught}; exit 7" TERM; touch {started};'
              " while :; do sleep 0.05; done")  # fmt: skip
    proc = _start(proxy_env, "sh", "-c", script)
    wait_for(started.exists)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 7
    assert caught.exists()


def test_ctrl_c_reaches_the_command_and_not_the_sandbox(proxy_env, tmp_path):
    """The terminal sends SIGINT to the whole foreground group: authsome, bwrap, the command.
    bwrap killed by it would take the sandbox down before the command could handle it."""
    started, caught = tmp_path / "started", tmp_path / "caught"
    script = (f'trap "touch {caught}; exit 5" INT; touch {started};'
              " while :; do sleep 0.05; done")  # fmt: skip
    proc = _start(proxy_env, "sh", "-c", script)  # its own group, as a terminal's job
    wait_for(started.exists)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(30) == 5, proc.stderr.read()
    assert caught.exists()


def test_an_interactive_command_reads_its_terminal_and_takes_ctrl_c(proxy_env):
    from ptyrun import PtyProcess

    script = ('trap "echo caught-int; exit 5" INT; printf "name? "; read x; echo "hi $x";'
              " while :; do sleep 0.05; done")  # fmt: skip
    argv = [AUTHSOME_BIN, "run", "--proxy", "--sandbox", "testsrv", "--", "sh", "-c", script]
    proc = PtyProcess(argv, {**proxy_env, "TERM": "dumb"})
    try:
        proc.expect(b"name? ")
        proc.send(b"world\n")
        proc.expect(b"hi world")
        proc.send(b"\x03")  # Ctrl-C, typed: the terminal signals its foreground group
        proc.expect(b"caught-int")
    except BaseException:
        proc.close()
        raise
    assert proc.wait() == 5


def test_a_command_not_found_inside(proxy_env):
    out = _sandboxed(proxy_env, "no-such-command-here")
    assert (out.returncode, out.stdout) == (127, "")
    assert out.stderr == (
        "authsome: command not found: no-such-command-here. Check its name and your PATH\n"
    )


def test_without_bwrap_the_command_never_runs(proxy_env, tmp_path):
    marker = tmp_path / "ran"
    env = {**proxy_env, "PATH": str(tmp_path / "empty")}
    out = _sandboxed(env, "/bin/sh", "-c", f"touch {marker}")
    assert (out.returncode, out.stdout) == (16, "")
    assert out.stderr == (
        "authsome: bubblewrap (bwrap) is not installed."
        " Install bubblewrap: apt install bubblewrap (dnf or pacman: bubblewrap)\n"
    )
    assert not marker.exists()
    assert run(["run", "--proxy", "testsrv", "--", "/bin/sh", "-c", "true"], env).returncode == 0
    # Said before anything else: a login that is missing too is not what stops it.
    out = run(["run", "--proxy", "--sandbox", "openai", "--", "/bin/sh", "-c", "true"], env)
    assert out.returncode == 16, out.stderr


def test_without_user_namespaces_the_command_never_runs(proxy_env, tmp_path):
    """Inside a user namespace where no other may be made (bwrap --disable-userns), as where
    the kernel or AppArmor forbids them: bwrap's own reason, on one line."""
    bwrap, marker = require("bwrap"), tmp_path / "ran"
    outer = [bwrap, "--unshare-user", "--disable-userns", "--bind", "/", "/", "--proc", "/proc",
             "--dev", "/dev", AUTHSOME_BIN, "run", "--proxy", "--sandbox", "testsrv", "--",
             "/bin/sh", "-c", f"touch {marker}"]  # fmt: skip
    out = subprocess.run(outer, env=proxy_env, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (16, ""), out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith("authsome: the sandbox could not start: bwrap: "), line
    assert "namespace" in line and "user namespaces" in line
    assert not marker.exists()


def _start(env, *command) -> subprocess.Popen:
    argv = [AUTHSOME_BIN, "run", "--proxy", "--sandbox", "testsrv", "--", *command]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip


def _pids_running(mark: str) -> list[int]:
    """The processes with `mark` as an argument."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if mark.encode() in argv:
                found.append(int(entry))
    return found


def _sleeper(env, tmp_path):
    """A sandboxed `sleep` with a mark of its own; (authsome's process, the mark)."""
    mark = f"{300 + secrets.randbelow(10**6) / 10**7:.7f}"
    started = tmp_path / "started"
    proc = _start(env, "sh", "-c", f"touch {started}; exec sleep {mark}")
    wait_for(started.exists)
    wait_for(lambda: len(_pids_running(mark)) == 1)  # sleep, once sh has exec'd it
    return proc, mark


def test_the_forwarder_dying_stops_the_command_in_one_line(proxy_env, tmp_path):
    proc, mark = _sleeper(proxy_env, tmp_path)
    [sleep] = _pids_running(mark)
    forwarder = int(Path(f"/proc/{sleep}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert b"forwarder.py" in Path(f"/proc/{forwarder}/cmdline").read_bytes()
    os.kill(forwarder, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 17
    assert err == (
        "authsome: the sandbox around sh stopped before the command ended, and the command"
        " with it. Run it again; if this repeats, run with --debug and report it\n"
    )
    wait_for(lambda: not _pids_running(mark))


def test_authsome_dying_takes_the_command_with_it(proxy_env, tmp_path):
    proc, mark = _sleeper(proxy_env, tmp_path)
    proc.kill()
    proc.wait(30)
    wait_for(lambda: not _pids_running(mark))


def test_doctor_says_whether_the_sandbox_can_run(env, tmp_path):
    out = run(["doctor", "--json"], env)
    assert json.loads(out.stdout)["sandbox"]["usable"] is True, out.stdout
    assert "sandbox:   run --proxy --sandbox can run here (bwrap at " in run(["doctor"], env).stdout
    bare = {**env, "PATH": str(tmp_path)}
    out = run(["doctor"], bare)
    assert out.returncode == 0, out.stdout  # said, not a problem: few need the sandbox
    assert (
        "sandbox:   run --proxy --sandbox cannot run here: bubblewrap (bwrap) is not installed."
        " Install bubblewrap: apt install bubblewrap" in out.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sandbox", "testsrv"], "--sandbox needs --proxy. Add --proxy"),
        (["--proxy", "--hide", "/x", "testsrv"], "--hide and --ssh-agent need --sandbox"),
        (["--ssh-agent", "testsrv"], "--hide and --ssh-agent need --sandbox"),
    ],
)
def test_sandbox_options_alone_are_usage_errors(env, args, message):
    out = run(["run", *args, "--", "true"], env)
    assert out.returncode == 2
    assert message in out.stderr
