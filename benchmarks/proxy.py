"""The benchmark suite's rows for `authsome run --proxy` (run.py calls measure()).

- Start-up: `run --proxy NAME -- true` against `run NAME -- true`, each a ratio to the floor.
- Per request: one client in one process sends sequential HTTPS requests on one kept-alive
  connection to a local TLS server (tests/proxyservers.py, with its own test CA): directly,
  through the proxy on an intercepted host (credential added, one audit line), and through
  the proxy to a host it only tunnels. The local server answers in well under a millisecond,
  so each difference is the proxy's own cost, not the network's.
- Request rules: a request through a proxy with 20 rules against one without, taken in turn
  by one client (paired, so load hits both alike); and the matcher alone, in process.
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
            "tunnelled": (proxied, other.url)}  # fmt: skip
    got: dict[str, list] = {way: [] for way in ways}
    for _ in range(runs):  # interleaved, so that a busy spell hits each way alike
        for way, (prefix, url) in ways.items():
            got[way].append(_client(prefix, env, url, n))
    (direct_first, direct), (first, through), (_, tunnelled) = (
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
    b.add("first request through the proxy, intercepted (CONNECT, two TLS handshakes, a leaf)",
          first, note=f"direct: {direct_first * 1000:.2f} ms", ratio=False)  # fmt: skip


# One client, two kept-alive connections to the same server: through a proxy with no rules
# and through one with RULES rules, a request on each in turn, so that a busy spell hits both
# alike (separate runs of a few hundred requests each differed by ±2 ms on a loaded machine).
# Prints each connection's seconds per request, as JSON.
PAIRED_CLIENT = """
import base64, http.client, json, os, ssl, sys, time, urllib.parse
url, n = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
def connect(proxy, cafile):
    p = urllib.parse.urlsplit(proxy)
    tls = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection(p.hostname, p.port, context=tls)
    auth = base64.b64encode(f"{p.username}:{p.password}".encode()).decode()
    conn.set_tunnel(url.hostname, url.port, headers={"Proxy-Authorization": "Basic " + auth})
    return conn
ways = {"plain": connect(os.environ["PLAIN_PROXY"], os.environ["PLAIN_CA"]),
        "ruled": connect(os.environ["HTTPS_PROXY"], os.environ["SSL_CERT_FILE"])}
times = {way: [] for way in ways}
for i in range(n + 5):  # the first 5 of each: handshakes, leaves, warm-up
    for way, conn in sorted(ways.items(), reverse=i % 2 == 1):
        start = time.perf_counter()
        conn.request("GET", "/v1/echo?q=1")
        assert conn.getresponse().read()
        if i >= 5:
            times[way].append(time.perf_counter() - start)
print(json.dumps(times))
"""
# The run without rules starts the run with rules as its child, handing it the proxy it made
# and the session that `run` keeps from its children (a benchmark's shortcut, never advice).
HAND_ON = ('PLAIN_PROXY=$HTTPS_PROXY PLAIN_CA=$SSL_CERT_FILE AUTHSOME_SESSION=$BENCH_SESSION '
           'SSL_CERT_FILE=$BENCH_CAS exec "$@"')  # fmt: skip


def with_rules(b, env: dict[str, str], api: ApiServer) -> None:
    """p50 per request through the proxy with RULES rules against without, paired. Measured
    +0.03 to +0.19 ms at a load average of 10 on 2 cores, where the same pairing with no
    rules on either side gave +0.02 to +0.10 ms: the difference is the machine's noise; the
    matcher's own cost is matcher()'s row."""
    n, runs = (50, 1) if b.repeat < 5 else (500, 5)
    inner = [AUTHSOME, "run", "--proxy", *rules(api), "bench", "--",
             sys.executable, "-c", PAIRED_CLIENT, api.url, str(n)]  # fmt: skip
    outer = [AUTHSOME, "run", "--proxy", "bench", "--", "sh", "-c", HAND_ON, "sh", *inner]
    handed = {**env, "BENCH_SESSION": env["AUTHSOME_SESSION"], "BENCH_CAS": env["SSL_CERT_FILE"]}
    plain, ruled = [], []
    for _ in range(runs):
        doc = json.loads(_must(outer, handed))
        plain, ruled = plain + doc["plain"], ruled + doc["ruled"]
    p50, over = statistics.median(ruled), statistics.median(ruled) - statistics.median(plain)
    b.add(f"… intercepted, with {RULES} request rules (--allow; the last one matches)", p50,
          "< 0.3 ms over no rules", over < 0.0003, note=f"{over * 1000:+.3f} ms over the same "
          f"requests without rules, taken in turn", ratio=False)  # fmt: skip


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
        with_rules(b, env, api)
        matcher(b)
    finally:
        api.stop()
        other.stop()
