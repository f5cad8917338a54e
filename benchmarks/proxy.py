"""The benchmark suite's rows for `authsome run --proxy` (run.py calls measure()).

- Start-up: `run --proxy NAME -- true` against `run NAME -- true`, each a ratio to the floor.
- Per request: one client in one process sends sequential HTTPS requests on one kept-alive
  connection to a local TLS server (tests/proxyservers.py, with its own test CA): directly,
  through the proxy on an intercepted host (credential added, one audit line), and through
  the proxy to a host it only tunnels, and intercepted with 20 request rules (`--allow`) in
  force. The local server answers in well under a millisecond, so each difference is the
  proxy's own cost, not the network's. The rules' matcher is also timed alone, in process.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from proxyservers import KEEP_ALIVE_CLIENT, ApiServer  # tests/, which run.py puts on sys.path

AUTHSOME = str(Path(sys.executable).parent / "authsome")
KEY = "sk-bench-0123456789abcdefghijklmnop"
PASSPHRASE = "benchmark passphrase"


def provider(api: ApiServer) -> dict:
    """An API-key provider whose API is the local server, as a user's override would say."""
    return {
        "name": "bench",
        "display_name": "Bench",
        "auth_type": "api_key",
        "flow": "api_key",
        "api_key": {
            "env_var": "BENCH_API_KEY",
            "header_name": "Authorization",
            "header_prefix": "Bearer ",
        },
        "export": {"env": {"api_key": "BENCH_API_KEY"}},
        "hosts": [api.host],
    }


def _must(argv, env) -> str:
    out = subprocess.run(argv, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"set-up failed: {argv}: {out.stderr.strip()}")
    return out.stdout


def logged_in(base: dict[str, str], api: ApiServer, other: ApiServer) -> dict[str, str]:
    """`base` logged in to the bench provider, its file store unlocked, and trusting both
    local servers' test CAs as a user with a private CA would (SSL_CERT_FILE)."""
    home = Path(base["AUTHSOME_HOME"])
    (home / "providers").mkdir(parents=True)
    (home / "providers" / "bench.json").write_text(json.dumps(provider(api)))
    cas = home.parent / "local-cas.pem"
    cas.write_bytes(api.ca.read_bytes() + other.ca.read_bytes())
    env = {**base, "AUTHSOME_BACKEND": "file", "SSL_CERT_FILE": str(cas)}
    _must([AUTHSOME, "login", "bench"], {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE,
                                         "BENCH_API_KEY": KEY})  # fmt: skip
    unlock = [AUTHSOME, "unlock", "--shell", "bash"]
    shell = _must(unlock, {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE})
    return {**env, "AUTHSOME_SESSION": shell.split("'")[1]}


def startup(b, env: dict[str, str]) -> None:
    plain = b.timed([AUTHSOME, "run", "bench", "--", "true"], env)
    b.add("`run bench -- true` (credentials in the environment), for comparison", plain)
    t = b.timed([AUTHSOME, "run", "--proxy", "bench", "--", "true"], env)
    note = f"{(t - plain) * 1000:+.0f} ms, {t / plain:.2f}× `run`"
    # Measured 14.7-15.6× on 2 cores: cryptography's x509 import, ssl and h11, and parsing the
    # system's CAs, which `run` never needs. mitmdump alone takes 0.6-0.7 s to listen.
    b.add("`run --proxy bench -- true`: CA made, proxy listening, child run", t,
          "≤ 18×", t <= 18 * b.floor, note=note)  # fmt: skip


def _client(prefix, env, url: str, n: int) -> tuple[float, float]:
    """Seconds of one client's first request and the median of its `n` later ones."""
    client = [sys.executable, "-c", KEEP_ALIVE_CLIENT, url, str(n)]
    doc = json.loads(_must([*prefix, *client], env))
    return doc["first"], statistics.median(doc["each"])


RULES = 20


def rules(api: ApiServer) -> list[str]:
    """`--allow` options: RULES - 1 that the benchmark's GET /v1/echo does not match, then one
    that it does, so each request is checked against them all."""
    host, found = api.host, []
    for i in range(RULES - 1):
        method = ("GET", "POST", "PUT", "DELETE")[i % 4]
        found += ["--allow", f"{method} {host}/repos/acme-{i}/*/issues/*"]
    return [*found, "--allow", f"GET,HEAD {host}/v1/*"]


def per_request(b, env: dict[str, str], api: ApiServer, other: ApiServer) -> None:
    n, runs = (50, 3) if b.repeat < 5 else (500, 7)
    proxied = [AUTHSOME, "run", "--proxy", "bench", "--"]
    ways = {"direct": ([], api.url), "through": (proxied, api.url),
            "tunnelled": (proxied, other.url),
            "ruled": ([*proxied[:3], *rules(api), *proxied[3:]], api.url)}  # fmt: skip
    got: dict[str, list] = {way: [] for way in ways}
    for _ in range(runs):  # interleaved, so that a busy spell hits each way alike
        for way, (prefix, url) in ways.items():
            got[way].append(_client(prefix, env, url, n))
    (direct_first, direct), (first, through), (_, tunnelled), (_, ruled) = (
        tuple(statistics.median(x) for x in zip(*got[way], strict=True)) for way in ways
    )
    b.add("HTTPS GET on a kept-alive connection, direct (local TLS server)", direct, ratio=False)
    # Measured +0.6-0.85 ms intercepted (h11 both ways, TLS on both legs, the header, one
    # audit line) and +0.1-0.3 ms tunnelled (two more hops through a select loop).
    over = through - direct
    b.add("… through the proxy, intercepted (credential added, audit line)", through,
          "< 1.5 ms over direct", over < 0.0015, note=f"{over * 1000:+.2f} ms, "
          f"{through / direct:.1f}× direct", ratio=False)  # fmt: skip
    over = tunnelled - direct
    b.add("… through the proxy, tunnelled (host not intercepted)", tunnelled,
          "< 0.5 ms over direct", over < 0.0005, note=f"{over * 1000:+.2f} ms, "
          f"{tunnelled / direct:.1f}× direct", ratio=False)  # fmt: skip
    # The matcher itself takes ~4 µs (matcher() below): this row's difference is mostly the
    # machine's noise, so its budget is loose.
    over = ruled - through
    b.add(f"… intercepted, with {RULES} request rules (--allow; the last one matches)", ruled,
          "< 0.3 ms over no rules", over < 0.0003, note=f"{over * 1000:+.3f} ms",
          ratio=False)  # fmt: skip
    b.add("first request through the proxy, intercepted (CONNECT, two TLS handshakes, a leaf)",
          first, note=f"direct: {direct_first * 1000:.2f} ms", ratio=False)  # fmt: skip


def matcher(b) -> None:
    """The rules' own cost per request, in process: `rules()` against an allowed GET with a
    query, and a denied POST whose path has escapes (decoded three times, then checked)."""
    import timeit

    from authsome.proxy.rules import Rules, parse

    host = ("127.0.0.1", 8443)
    given = rules(type("Api", (), {"host": "127.0.0.1:8443"}))
    ruled = Rules(parse(text) for text in given[1::2])
    headers = [(b"host", b"127.0.0.1:8443"), (b"user-agent", b"curl/7.88"), (b"accept", b"*/*")]
    n = 2000 * b.repeat
    for name, method, target in (
        ("an allowed GET", b"GET", b"/v1/echo?q=1"),
        ("a denied POST with escapes", b"POST", b"/repos/acme-3/a%2Fb/pulls/%41?x=y"),
    ):
        check = lambda m=method, t=target: ruled.denial(m, t, host, headers)  # noqa: E731
        t = min(timeit.repeat(check, number=n, repeat=5)) / n
        b.add(f"request rules: {name} checked against {RULES} rules (in process)", t,
              "< 50 µs", t < 0.00005, note=f"{t * 1e6:.1f} µs", ratio=False)  # fmt: skip


def measure(b, base: dict[str, str]) -> None:
    """All the proxy rows; `base` is an empty home's environment (run.py's base_env)."""
    folder = Path(base["AUTHSOME_HOME"]).parent
    api, other = ApiServer(folder / "api"), ApiServer(folder / "other")
    try:
        env = logged_in(base, api, other)
        startup(b, env)
        per_request(b, env, api, other)
        matcher(b)
    finally:
        api.stop()
        other.stop()
