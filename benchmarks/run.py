"""authsome's benchmark suite: every figure a median, and a ratio to `python -c pass`.

Run:   .venv/bin/python benchmarks/run.py            (full; writes benchmarks/RESULTS.md)
       .venv/bin/python benchmarks/run.py --quick    (CI smoke run: few repeats, no verdict)

Needs the same real parts as the tests: dbus-daemon, gnome-keyring, bash, zsh, fish.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
AUTHSOME = str(Path(sys.executable).parent / "authsome")
KEY = "sk-bench-0123456789abcdefghijklmnop"
PASSPHRASE = "benchmark passphrase"


FLOOR = [sys.executable, "-c", "pass"]


def _once(argv, env, stdin) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
    return time.perf_counter() - start


class Bench:
    def __init__(self, repeat: int):
        self.repeat = repeat
        self.rows: list[dict] = []
        self.floor = None

    def timed(self, argv, env, repeat=None, stdin=None, warmup=2) -> float:
        """The median of `argv`'s runs. Each run alternates with a `python -c pass`, and the
        floor becomes their median: on a busy machine a floor measured once, minutes earlier,
        makes every later ratio wrong."""
        times, floors = [], []
        for _ in range(warmup):
            subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
        for _ in range(repeat or self.repeat):
            floors.append(_once(FLOOR, env, None))
            start = time.perf_counter()
            out = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if out.returncode != 0:
                raise SystemExit(f"benchmark command failed: {argv}: {out.stderr.strip()}")
        self.floor = statistics.median(floors)
        return statistics.median(times)

    def add(
        self,
        name: str,
        seconds: float | None,
        budget: str = "",
        ok: bool | None = None,
        note: str = "",
        ratio: bool = True,
    ):
        r = seconds / self.floor if (seconds is not None and self.floor and ratio) else None
        self.rows.append(
            {"name": name, "seconds": seconds, "ratio": r, "budget": budget, "ok": ok, "note": note}
        )

    def table(self) -> str:
        lines = ["| measure | median | × floor | budget | verdict |", "|---|---:|---:|---|---|"]
        for r in self.rows:
            s = f"{r['seconds'] * 1000:.2f} ms" if r["seconds"] is not None else r["note"]
            ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else ""
            verdict = {True: "pass", False: "FAIL", None: ""}[r["ok"]]
            note = f" ({r['note']})" if r["note"] and r["seconds"] is not None else ""
            lines.append(f"| {r['name']}{note} | {s} | {ratio} | {r['budget']} | {verdict} |")
        return "\n".join(lines)


def base_env(tmp: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every run recompile authsome: users' installs have
    # bytecode, so the benchmark lets Python write it (the warm-up runs do).
    skip = ("AUTHSOME_", "DBUS_", "XDG_RUNTIME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    run_dir = tmp / "run"
    run_dir.mkdir(mode=0o700, parents=True)
    env.update(
        HOME=str(tmp),
        AUTHSOME_HOME=str(tmp / ".authsome"),
        AUTHSOME_KEYRING="0",  # per-shell sessions, except where the keyring is measured
        XDG_RUNTIME_DIR=str(run_dir),
        PATH=f"{Path(AUTHSOME).parent}:{env.get('PATH', '/usr/bin:/bin')}",
    )
    return env


def must(argv, env, stdin=None) -> str:
    out = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"set-up failed: {argv}: {out.stderr.strip()}")
    return out.stdout


def file_store(b: Bench, tmp: Path) -> dict[str, str]:
    env = {**base_env(tmp), "AUTHSOME_BACKEND": "file"}
    must(
        [AUTHSOME, "login", "openai"],
        {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE, "OPENAI_API_KEY": KEY},
    )
    session = must(
        [AUTHSOME, "unlock", "--shell", "bash"], {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE}
    ).split("'")[1]
    unlocked = {**env, "AUTHSOME_SESSION": session}
    for cmd in ("env", "token"):
        t = b.timed([AUTHSOME, cmd, "openai"], unlocked)
        b.add(f"`{cmd} openai`, file store, unlocked session", t, "≤ 3×", t <= 3 * b.floor)
    login = {k: v for k, v in env.items() if k != "AUTHSOME_KEYRING"}
    must([AUTHSOME, "unlock"], {**login, "AUTHSOME_PASSPHRASE": PASSPHRASE})
    try:
        for cmd in ("env", "token"):
            t = b.timed([AUTHSOME, cmd, "openai"], login)
            name = f"`{cmd} openai`, file store, unlocked for the login (kernel keyring)"
            b.add(name, t, "≤ 3×", t <= 3 * b.floor)
    finally:
        must([AUTHSOME, "lock"], login)
    for cmd in ("env", "token"):
        t = b.timed(
            [AUTHSOME, cmd, "openai"],
            {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE},
            repeat=max(3, b.repeat // 3),
        )
        b.add(f"`{cmd} openai`, file store, AUTHSOME_PASSPHRASE (pays scrypt)", t)
    return unlocked


def keychain_store(b: Bench, tmp: Path) -> None:
    from realparts import SecretService

    service = SecretService(tmp / "ss")
    try:
        env = {**base_env(tmp), **service.env(), "AUTHSOME_BACKEND": "keychain"}
        must([AUTHSOME, "login", "openai"], {**env, "OPENAI_API_KEY": KEY})
        for cmd in ("env", "token"):
            t = b.timed([AUTHSOME, cmd, "openai"], env)
            name = f"`{cmd} openai`, keychain (gnome-keyring, private D-Bus)"
            b.add(name, t, "≤ 3.5×", t <= 3.5 * b.floor)
        lookup = shutil.which("secret-tool")
        name = "`secret-tool lookup` (C, libsecret), same gnome-keyring: the keychain's floor"
        if lookup is None:
            b.add(name, None, note="secret-tool not installed (Debian: libsecret-tools)")
        else:
            attrs = ["application", "authsome", "provider", "openai", "connection", "default"]
            b.add(name, b.timed([lookup, "lookup", *attrs], env))
    finally:
        service.stop()


GH_HOSTS = (
    "github.com:\n    oauth_token: gho_bench0123456789abcdefghijklmnopqrstu\n    user: bench\n"
)


def gh_token(b: Bench, tmp: Path) -> None:
    """gh (Go) answering `auth token` from a plain token file: the comparison the issue names."""
    gh = shutil.which("gh")
    name = "`gh auth token` (Go), token in a plain file, for comparison"
    if gh is None:
        b.add(name, None, note="gh not installed (Debian: gh)")
        return
    config = tmp / "gh"
    config.mkdir(mode=0o700, parents=True)
    (config / "hosts.yml").write_text(GH_HOSTS)
    env = {**base_env(tmp), "GH_CONFIG_DIR": str(config), "GH_NO_UPDATE_NOTIFIER": "1"}
    b.add(name, b.timed([gh, "auth", "token"], env))


def completion(b: Bench, env: dict[str, str]) -> None:
    comp = {
        **env,
        "_AUTHSOME_COMPLETE": "bash_complete",
        "COMP_WORDS": "authsome login gi",
        "COMP_CWORD": "2",
    }
    t = b.timed([AUTHSOME], comp)
    b.add("Tab: `authsome login gi<Tab>` (click protocol)", t, "≤ 2×", t <= 2 * b.floor)
    comp = {**comp, "COMP_WORDS": "authsome login --f", "COMP_CWORD": "2"}
    t = b.timed([AUTHSOME], comp)
    b.add("Tab: `authsome login --f<Tab>`", t, "≤ 3×", t <= 3 * b.floor)


HOOK_LOOP = {
    "bash": (
        'eval "$({a} hook bash)"; AUTHSOME_REFRESH_AT=9999999999\n'
        "s=$EPOCHREALTIME; for ((i=0;i<{n};i++)); do {body}; done; e=$EPOCHREALTIME\n"
        'echo "$s $e"',
        'eval "$PROMPT_COMMAND"',
        ":",
    ),
    "zsh": (
        'zmodload zsh/datetime; eval "$({a} hook zsh)"; AUTHSOME_REFRESH_AT=9999999999\n'
        "s=$EPOCHREALTIME; for ((i=0;i<{n};i++)); do {body}; done; e=$EPOCHREALTIME\n"
        'echo "$s $e"',
        "_authsome_hook",
        ":",
    ),
    "fish": (
        "{a} hook fish | source; set -gx AUTHSOME_REFRESH_AT 9999999999\n"
        "set s (date +%s.%N); for i in (seq {n}); {body}; end; set e (date +%s.%N)\n"
        'echo "$s $e"',
        "emit fish_prompt",
        "true",
    ),
}


def hook_cost(b: Bench, env: dict[str, str]) -> None:
    n = 2000 if b.repeat > 5 else 200
    for shell, (template, body, empty) in HOOK_LOOP.items():
        binary = shutil.which(shell)
        if binary is None:
            b.add(f"prompt hook, {shell}", None, "< 2 ms", False, note=f"{shell} not installed")
            continue
        per = []
        for payload in (body, empty):
            script = template.format(a=AUTHSOME, n=n, body=payload)
            args = (
                [binary, "--no-config", "-c", script] if shell == "fish" else [binary, "-c", script]
            )
            runs = []
            for _ in range(3):
                s, e = map(float, must(args, env).split())
                runs.append((e - s) / n)
            per.append(statistics.median(runs))
        cost = max(per[0] - per[1], 0.0)
        b.add(
            f"prompt hook, {shell}, nothing due (per prompt, minus an empty prompt)",
            cost,
            "< 2 ms, 0 processes",
            cost < 0.002,
            ratio=False,
        )


def listing(b: Bench, tmp: Path) -> None:
    from authsome.factory import Context
    from authsome.storage.connections import Connection

    env = {**base_env(tmp), "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": PASSPHRASE}
    ctx = Context(env)
    done = 0
    for count in (1, 100, 1000):
        for i in range(done, count):
            ctx.connections.save(Connection("openai", f"c{i}", secrets={"api_key": KEY}))
        done = count
        # As many runs as the other rows: a median of 7 moved by ±0.4× between runs here.
        t = b.timed([AUTHSOME, "list"], env)
        b.add(f"`list` with {count} connection(s)", t, "≤ 3×", t <= 3 * b.floor)


def bulk_home(tmp: Path, count: int) -> dict[str, str]:
    """A home with `count` API-key providers, each with a default connection: the vault and
    the index written once, as `count` logins would leave them (logins one by one would
    rewrite the vault `count` times)."""
    from authsome.factory import Context
    from authsome.storage.connections import Connection
    from authsome.storage.index import entry_of

    env = {**base_env(tmp), "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": PASSPHRASE}
    ctx = Context(env)
    folder = Path(ctx.home.providers_dir)
    folder.mkdir(parents=True, mode=0o700)
    conns = []
    for i in range(count):
        name = f"bench{i}"
        definition = {
            "name": name,
            "display_name": f"Bench {i}",
            "auth_type": "api_key",
            "flow": "api_key",
            "api_key": {"env_var": f"BENCH{i}_API_KEY"},
            "export": {"env": {"api_key": f"BENCH{i}_API_KEY"}},
        }
        (folder / f"{name}.json").write_text(json.dumps(definition))
        conns.append(Connection(name, secrets={"api_key": f"{KEY}{i}"}, created_at=1, updated_at=1))
    store = ctx.file_store()
    doc = store.create()
    vault_key = store.key_for(doc)
    for conn in conns:
        doc.records[conn.key] = store._seal(vault_key, conn.key, conn.to_json())
    from authsome.util import fsutil

    fsutil.atomic_write(store.path, doc.to_bytes())
    entries = {}
    for conn in conns:
        entries[conn.key] = entry_of(conn.metadata("file"))
    ctx.connections.index.replace(entries)
    session = must([AUTHSOME, "unlock"], env).split("'")[1]
    unlocked = {**env, "AUTHSOME_SESSION": session}
    del unlocked["AUTHSOME_PASSPHRASE"]
    return unlocked


def env_all(b: Bench, tmp: Path) -> None:
    """`env` with no names exports every connected provider: it must grow linearly."""
    for count, budget in ((1000, 0.5), (5000, 2.0)):
        (tmp / str(count)).mkdir()
        env = bulk_home(tmp / str(count), count)
        out = must([AUTHSOME, "env", "--shell", "bash"], env)
        assert out.count("export BENCH") == count, out[:200]
        t = b.timed([AUTHSOME, "env", "--shell", "bash"], env, repeat=max(3, b.repeat // 4))
        b.add(f"`env` with no names, {count} connections", t, f"< {budget} s", t < budget)


def logged_in_to_testsrv(server, tmp: Path) -> dict[str, str]:
    """A home in `tmp` logged in to the test server `server` (a user provider), on the file
    store, and the environment of a shell that unlocked it."""
    env = {**base_env(tmp), "AUTHSOME_BACKEND": "file"}
    folder = tmp / ".authsome" / "providers"
    folder.mkdir(parents=True)
    (folder / "testsrv.json").write_text(json.dumps(server.provider()))
    must([AUTHSOME, "login", "testsrv"], {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE})
    session = must([AUTHSOME, "unlock"], {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE})
    return {**env, "AUTHSOME_SESSION": session.split("'")[1]}


def parallel_refresh(b: Bench, tmp: Path, procs: int = 32) -> None:
    from oauth_server import OAuthServer

    server = OAuthServer()
    try:
        server.state.access_expires_in = 2
        server.state.refreshed_expires_in = 3600
        env = logged_in_to_testsrv(server, tmp)
        time.sleep(1.2)  # past half of the 2 s lifetime: every caller wants a refresh
        start = time.perf_counter()
        running = [
            (
                subprocess.Popen(
                    [AUTHSOME, "token", "testsrv"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                ),
                time.perf_counter(),
            )
            for _ in range(procs)
        ]
        latencies = []
        for p, t0 in running:
            p.wait()
            latencies.append(time.perf_counter() - t0)
        wall = time.perf_counter() - start
        refreshes = server.state.count("/token", "refresh_token")
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        b.add(
            f"{procs} parallel `token` on an expiring token: refresh requests",
            None,
            "exactly 1",
            refreshes == 1,
            note=f"{refreshes} request(s); all {procs} in {wall:.2f} s",
        )
        b.add(f"{procs} parallel `token`: p50 latency", statistics.median(latencies))
        b.add(f"{procs} parallel `token`: p95 latency", p95)
    finally:
        server.stop()


def network_login(b: Bench, tmp: Path) -> None:
    """A command that talks to a server: httpx, httpcore and TLS set-up are its start-up."""
    from oauth_server import OAuthServer

    server = OAuthServer()  # approves at the first poll, 0.1 s after the code is issued
    try:
        env = logged_in_to_testsrv(server, tmp)
        t = b.timed([AUTHSOME, "login", "testsrv", "--force"], env)
        b.add("`login --force`, device code, local server (one 0.1 s poll wait)", t)
    finally:
        server.stop()


# A small parent reports the child's peak RSS: this process may itself be large (it ran scrypt),
# and a forked child's high-water mark starts from its parent's.
RSS_PROBE = """import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def peak_rss(b: Bench, unlocked: dict[str, str]) -> None:
    for name, argv, extra in (
        ("env", [AUTHSOME, "env", "openai"], {}),
        ("login (API key)", [AUTHSOME, "login", "openai", "--force"], {"OPENAI_API_KEY": KEY}),
    ):
        out = must([sys.executable, "-c", RSS_PROBE, *argv], {**unlocked, **extra})
        kib, code = map(int, out.split())
        note = f"{kib / 1024:.1f} MiB" + ("" if code == 0 else f", exit {code}")
        b.add(f"peak memory (max RSS) of `{name}`", None, note=note)


AUDIT_PROBE = """
import sys, time
from authsome.factory import Context
from authsome.services.audit import record
ctx, n = Context(), int(sys.argv[1])
record(ctx, "token", "openai", "default")
start = time.perf_counter()
for _ in range(n):
    record(ctx, "proxy", "openai", "default", method="POST", host="api.openai.com",
           path="/v1/chat/completions")
print((time.perf_counter() - start) / n)
"""


def audit_write(b: Bench, unlocked: dict[str, str]) -> None:
    """One audit line (services/audit.py), timed in process: what each credential handed out
    adds to token, env and every request the proxy signs."""
    t = float(must([sys.executable, "-c", AUDIT_PROBE, str(b.repeat * 100)], unlocked))
    b.add("audit log: one line written (in process)", t, "< 1 ms", t < 0.001, ratio=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats, no verdict")
    args = parser.parse_args()
    b = Bench(repeat=3 if args.quick else 21)
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        floor_env = base_env(tmp / "floor")
        b.floor = b.timed(FLOOR, floor_env)
        b.add("`python -c pass` (the floor)", b.floor)
        (tmp / "file").mkdir()
        unlocked = file_store(b, tmp / "file")
        (tmp / "kc").mkdir()
        keychain_store(b, tmp / "kc")
        gh_token(b, tmp / "gh")
        completion(b, unlocked)
        hook_cost(b, unlocked)
        (tmp / "list").mkdir()
        listing(b, tmp / "list")
        (tmp / "envall").mkdir()
        env_all(b, tmp / "envall")
        (tmp / "par").mkdir()
        parallel_refresh(b, tmp / "par")
        (tmp / "net").mkdir()
        network_login(b, tmp / "net")
        from vault import vault_refresh  # benchmarks/vault.py: the OpenBao store

        vault_refresh(b, tmp / "vault", base_env, AUTHSOME)
        peak_rss(b, unlocked)
        audit_write(b, unlocked)
        import proxy  # benchmarks/proxy.py: run --proxy's start-up and per-request cost

        proxy.measure(b, base_env(tmp / "proxy"))
        import mcpbridge  # benchmarks/mcpbridge.py: authsome mcp against mcp-remote

        mcpbridge.measure(b, base_env, tmp / "mcp")
        import envfile  # benchmarks/envfile.py: run --env-file against plain run

        envfile.measure(b, tmp / "envfile", base_env, AUTHSOME, must, PASSPHRASE)
        import masking  # benchmarks/masking.py: run's masked output, 100 MB through it

        masking.measure(b, base_env(tmp / "masking"))
        import sandbox  # benchmarks/sandbox.py: what run --proxy --sandbox adds

        sandbox.measure(b, base_env(tmp / "sandbox"))
    table = b.table()
    print(table)
    failed = [r["name"] for r in b.rows if r["ok"] is False]
    if args.quick:
        return 0
    stamp = time.strftime("%Y-%m-%d")
    (ROOT / "benchmarks" / "RESULTS.md").write_text(
        f"# Benchmark results\n\nMeasured {stamp} with `python benchmarks/run.py` on "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}. Medians of {b.repeat} runs "
        "unless noted; each ratio is to the median of `python -c pass` runs interleaved with "
        "that row's own runs.\n\n" + table + "\n"
    )
    if failed:
        print("over budget: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
