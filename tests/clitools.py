"""Running the installed `authsome` console script in tests."""

import signal
import subprocess
import sys
import time
from pathlib import Path

AUTHSOME_BIN = str(Path(sys.executable).parent / "authsome")
PY_AUTHSOME = [sys.executable, "-m", "authsome"]


def run(args, env, input=None, timeout=60, **kw):  # noqa: A002
    return subprocess.run(
        [AUTHSOME_BIN, *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
        **kw,
    )


def default_sigint() -> None:
    """A preexec_fn for children that are sent SIGINT: a suite started in the background (`&`
    from a script) ignores SIGINT, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ignore_sigint() -> None:
    """A preexec_fn for a child started as a background job of a script is: SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_token(env, name: str = "testsrv", preexec_fn=default_sigint) -> subprocess.Popen:
    """`authsome token NAME` started in its own session, for tests that race, signal or kill it."""
    return subprocess.Popen(
        [AUTHSOME_BIN, "token", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - it only sets a signal disposition
    )


def kill_with_helpers(pid: int) -> None:
    """SIGKILL a command and the helpers it forked into sessions of their own (a refresh runs
    in one, which outlives the command): the machine dying, not the command alone."""
    import contextlib
    import os
    import signal

    children = [pid]
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            children.append(int(entry))
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# An API-key provider whose key may be anything: for values full of quotes, newlines and $(...).
HOSTILE_PROVIDER = {
    "name": "hostile",
    "auth_type": "api_key",
    "api_key": {"env_var": "HOSTILE_KEY"},
    "export": {"env": {"api_key": "HOSTILE_KEY"}},
}


def login_keys(env, keys) -> None:
    """Log in to each (provider, its key variable, the key) with the key in the environment."""
    for name, var, value in keys:
        out = run(["login", name], {**env, var: value}, input="")
        assert out.returncode == 0, out.stderr


def check_generated(script: str) -> subprocess.CompletedProcess:
    """Run `scripts/<script> --check`: non-zero when a checked-in generated file has drifted."""
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, str(root / "scripts" / script), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def installed_env(env, tmp_path) -> dict:
    """`env` as after an install: the encrypted file with the kernel keyring on (the default
    outside the tests), a private XDG_RUNTIME_DIR of its own (made here), and PATH finding
    authsome."""
    e = {k: v for k, v in env.items() if k != "AUTHSOME_KEYRING"}
    e.update(
        AUTHSOME_BACKEND="file",
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        PATH=f"{Path(AUTHSOME_BIN).parent}:{e.get('PATH', '/usr/bin:/bin')}",
    )
    (tmp_path / "run").mkdir(mode=0o700)
    return e


def logged_in_behind(env, testsrv, install_provider, api) -> dict:
    """`env` logged in to testsrv, whose API host is the HTTPS test server `api` (ApiServer or
    RawServer), whose test CA the user trusts: a proxy run's usual start."""
    install_provider(testsrv.provider(hosts=[api.host]))
    env = {**env, "SSL_CERT_FILE": str(api.ca)}
    out = run(["login", "testsrv"], env)
    assert out.returncode == 0, out.stderr
    return env


def login_due(server, env, name: str = "testsrv", expired: bool = False, refreshed=3600):
    """`authsome login NAME` at the test OAuth server, leaving a token due for refresh at once.

    expired: the server says expires_in 0. Otherwise the stored login is aged through the real
    store, as if made an hour ago with a minute left: due (past the refresh margin) but still
    good. A token can be neither on its own, since the margin is at most half its life. Tokens
    that a refresh brings live `refreshed` seconds (None: as long as the first)."""
    server.state.access_expires_in = 0 if expired else 3600
    server.state.refreshed_expires_in = refreshed
    out = run(["login", name], env)
    assert out.returncode == 0, out.stderr
    if not expired:
        age(env, name)


def age(env, ref: str = "testsrv", left: int = 60, lived: int = 3600) -> None:
    """Make the stored login `ref` (NAME[:CONNECTION]) look `lived` seconds old, with `left`
    seconds to live: the clock moved on, for every store, without waiting."""
    from authsome.factory import Context

    now = time.time()
    ctx = Context(env, clock=lambda: now - lived)  # the save stamps the login that old
    provider, _, connection = ref.partition(":")
    conn = ctx.connections.load(provider, connection or "default")
    conn.expires_at = int(now + left)
    ctx.connections.save(conn)


def age_command(ref: str = "testsrv", left: int = 60) -> str:
    """A shell command running age() on `ref` in its own environment, for a test's script."""
    import shlex

    return shlex.join([sys.executable, __file__, "age", ref, str(left)])


if __name__ == "__main__" and sys.argv[1:2] == ["age"]:
    import os

    age(dict(os.environ), sys.argv[2], int(sys.argv[3]))
