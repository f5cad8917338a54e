"""Signals swept over the refresh window: a command killed anywhere in it loses no login.

From the moment the provider receives a refresh request until the new tokens are stored, the old
refresh token is spent and the new one exists only in memory. Each trial sends one signal to the
process group of one `authsome token` at one point, timed by the test server: as the command
starts, as the request arrives (the server holds it a while), and at steps after the answer is
sent. The four signals run side by side, one provider each. The server rotates refresh tokens and
revokes the login when a spent one comes back, so a lost rotated token shows up in the next
`token` as exit 7. Each store reports, per signal, the trials (commands that died by the signal)
and the logins lost: SIGKILL included, none may be lost.
"""

import contextlib
import json
import os
import signal
import subprocess
import threading
import time

import pytest
from clitools import AUTHSOME_BIN, start_token

SIGNALS = {"int": signal.SIGINT, "term": signal.SIGTERM, "hup": signal.SIGHUP}
SIGNALS["kill"] = signal.SIGKILL
# (stage, seconds after it): as the command starts; in the request, which the server holds for
# REQUEST_HOLD; after the answer: the file store saves within ~5 ms, the keychain within ~50 ms.
POINTS = (
    ("start", 0.05),
    ("request", 0.0),
    ("request", 0.05),
    ("answered", 0.0),
    ("answered", 0.002),
    ("answered", 0.005),
    ("answered", 0.01),
    ("answered", 0.02),
    ("answered", 0.04),
)
REQUEST_HOLD = 0.1
LIFETIME = 2  # of a refreshed token: due again at half its life, 1.5 s at most (whole seconds)
DUE_AFTER = 1.7


def _kill(proc, sig) -> None:
    with contextlib.suppress(ProcessLookupError):  # it had finished
        os.killpg(proc.pid, sig)


class Sweep:
    """Kills armed per provider, fired by the test server's refresh stages."""

    def __init__(self, server, env):
        self.server, self.env = server, env
        self.armed: dict[str, tuple] = {}  # client_id -> (stage, delay, proc, signal)
        self.last_answer = 0.0
        self.lock = threading.Lock()
        server.state.on_refresh_stage = self.stage
        server.state.refresh_delay = REQUEST_HOLD
        server.state.refreshed_expires_in = LIFETIME

    def stage(self, stage: str, form: dict) -> None:
        if stage == "answered":
            self.last_answer = time.time()
        with self.lock:
            plan = self.armed.get(form.get("client_id"))
            if plan is None or plan[0] != stage:
                return
            del self.armed[form["client_id"]]
        _, delay, proc, sig = plan
        if delay:
            threading.Timer(delay, _kill, (proc, sig)).start()
        else:
            _kill(proc, sig)

    def login(self, names) -> None:
        procs = [
            subprocess.Popen(
                [AUTHSOME_BIN, "login", f"kt-{name}", "--force"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err

    def trial(self, stage: str, delay: float) -> dict[str, bool]:
        """One kill per signal at (stage, delay); which commands died by their signal."""
        time.sleep(max(0.0, self.last_answer + DUE_AFTER - time.time()))  # every token due
        procs = {}
        for name, sig in SIGNALS.items():
            procs[name] = proc = start_token(self.env, f"kt-{name}")
            if stage == "start":
                threading.Timer(delay, _kill, (proc, sig)).start()
            else:
                with self.lock:
                    self.armed[f"client-kt-{name}"] = (stage, delay, proc, sig)
        died = {}
        for name, proc in procs.items():
            proc.communicate(timeout=90)
            died[name] = proc.returncode != 0
        with self.lock:
            self.armed.clear()
        return died

    def alive(self) -> dict[str, bool]:
        """Whether each login still works (the next `token` waits for any helper still saving)."""
        procs = {name: start_token(self.env, f"kt-{name}") for name in SIGNALS}
        result = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=90)
            result[name] = proc.returncode == 0 and out.strip() in self.server.state.access
            assert result[name] or proc.returncode == 7, (name, proc.returncode, err)
        return result


def _sweep(server, env, install_provider, store: str) -> dict[str, list[int]]:
    for name in SIGNALS:
        install_provider(server.provider(f"kt-{name}", oauth={"client_id": f"client-kt-{name}"}))
    server.state.access_expires_in = LIFETIME
    sweep = Sweep(server, env)
    sweep.login(SIGNALS)
    sweep.last_answer = time.time()  # the logins' tokens: due like refreshed ones
    figures = {name: [0, 0] for name in SIGNALS}  # trials, lost
    for stage, delay in POINTS:
        died = sweep.trial(stage, delay)
        alive = sweep.alive()
        for name in SIGNALS:
            figures[name][0] += died[name]
            figures[name][1] += not alive[name]
        lost = [name for name in SIGNALS if not alive[name]]
        if lost:
            sweep.login(lost)
            sweep.last_answer = time.time()
    report = ", ".join(f"SIG{n.upper()} {t} trials {lost} lost" for n, (t, lost) in figures.items())
    print(f"kill sweep over the refresh window, {store}: {report}")
    return figures


def _check(figures: dict[str, list[int]], store: str) -> None:
    summary = json.dumps(figures)
    assert all(lost == 0 for _, lost in figures.values()), f"{store}: logins lost: {summary}"
    # The sweep reached the window: most kills landed on a live command.
    assert all(trials >= len(POINTS) // 2 for trials, _ in figures.values()), summary


def test_signals_across_the_refresh_window_lose_no_login_file_store(
    testsrv, unlocked_env, install_provider
):
    figures = _sweep(testsrv, unlocked_env, install_provider, "file store")
    _check(figures, "file store")


def test_signals_across_the_refresh_window_lose_no_login_secret_service(
    testsrv, fresh_secret_service, env, install_provider
):
    env = {**env, **fresh_secret_service.env(), "AUTHSOME_BACKEND": "keychain"}
    figures = _sweep(testsrv, env, install_provider, "Secret Service")
    _check(figures, "Secret Service")


@pytest.fixture(autouse=True)
def _no_leftover_timers():
    yield
    for timer in threading.enumerate():
        if isinstance(timer, threading.Timer):
            timer.join(5)
