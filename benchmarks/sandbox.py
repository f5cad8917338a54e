"""The benchmark suite's rows for `authsome run --proxy --sandbox` (run.py calls measure();
`python benchmarks/sandbox.py` prints these rows alone).

- Start-up: `python -c pass`, `run --proxy bench -- true` and `run --proxy --sandbox bench --
  true`, interleaved in one run: the sandbox's bwrap, namespaces, mounts and forwarder.
- Per connection: a client opens a new connection to $HTTPS_PROXY and reads the proxy's 407
  (it sends no run secret), so the proxy answers at once and nothing upstream is timed; the
  sandbox adds the forwarder's accept and its hand-over of the connection to the proxy.
- Per request on a kept-alive connection: the same HTTPS GETs through the proxy, with and
  without the sandbox. Once handed over, a connection is the proxy's own: no byte passes
  through the forwarder, so this should not move.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # as run.py does
import proxy  # noqa: E402 - benchmarks/proxy.py: the bench provider, its login, its client

AUTHSOME = proxy.AUTHSOME
# New connections to the proxy, each until the head of its 407; prints each one's seconds.
NEW_CONNECTIONS = """
import json, os, socket, sys, time, urllib.parse
proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
times = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    sock = socket.create_connection((proxy.hostname, proxy.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"CONNECT example.com:443 HTTP/1.1\\r\\nHost: example.com:443\\r\\n\\r\\n")
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        head += sock.recv(4096)
    times.append(time.perf_counter() - start)
    assert head.startswith(b"HTTP/1.1 407"), head
    sock.close()
print(json.dumps(times))
"""


def _interleaved(b, commands: dict[str, list[str]], env) -> dict[str, float]:
    """The median of each command's runs, the runs taken in turn: one busy spell hits all."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(2):
        for argv in commands.values():
            subprocess.run(argv, env=env, capture_output=True)
    for _ in range(b.repeat):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def startup(b, env) -> None:
    got = _interleaved(b, {
        "floor": [sys.executable, "-c", "pass"],
        "proxy": [AUTHSOME, "run", "--proxy", "bench", "--", "true"],
        "sandbox": [AUTHSOME, "run", "--proxy", "--sandbox", "bench", "--", "true"],
    }, env)  # fmt: skip
    b.floor = got["floor"]
    b.add("`run --proxy bench -- true`, for comparison (same run as the next row)", got["proxy"])
    over = got["sandbox"] - got["proxy"]
    b.add("`run --proxy --sandbox bench -- true`: bwrap, namespaces, mounts, forwarder",
          got["sandbox"], "< 50 ms over `run --proxy`", over < 0.050,
          note=f"{over * 1000:+.1f} ms")  # fmt: skip


def _series(prefix, env, code: str, *args) -> list[float]:
    out = proxy._must([*prefix, sys.executable, "-c", code, *map(str, args)], env)
    return json.loads(out)


def per_connection(b, env, api) -> None:
    n, runs = (50, 3) if b.repeat < 5 else (300, 7)
    ways = {"plain": [AUTHSOME, "run", "--proxy", "bench", "--"],
            "sandbox": [AUTHSOME, "run", "--proxy", "--sandbox", "bench", "--"]}  # fmt: skip
    fresh: dict[str, list[float]] = {w: [] for w in ways}
    kept: dict[str, list[float]] = {w: [] for w in ways}
    for _ in range(runs):
        for way, prefix in ways.items():
            fresh[way].append(statistics.median(_series(prefix, env, NEW_CONNECTIONS, n)))
            kept[way].append(proxy._client(prefix, env, api.url, n)[1])
    rows = (
        (fresh, "new connection to the proxy until its answer (407), `run --proxy`",
         "… the same in the sandbox (the forwarder's accept and hand-over)"),
        (kept, "HTTPS GET on a kept-alive connection through the proxy, `run --proxy`",
         "… the same in the sandbox (no byte passes through the forwarder)"),
    )  # fmt: skip
    for times, outside, inside in rows:
        plain, boxed = (statistics.median(times[w]) for w in ways)
        b.add(outside, plain, ratio=False)
        over = boxed - plain
        b.add(inside, boxed, "< 0.3 ms over `run --proxy`", over < 0.0003,
              note=f"{over * 1000:+.3f} ms", ratio=False)  # fmt: skip


def measure(b, base: dict[str, str]) -> None:
    """All the sandbox rows; `base` is an empty home's environment (run.py's base_env)."""
    folder = Path(base["AUTHSOME_HOME"]).parent
    api, other = proxy.ApiServer(folder / "api"), proxy.ApiServer(folder / "other")
    try:
        env = proxy.logged_in(base, api, other)
        startup(b, env)
        per_connection(b, env, api)
    finally:
        api.stop()
        other.stop()


if __name__ == "__main__":
    import argparse
    import tempfile

    import run  # benchmarks/run.py: Bench and base_env

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats")
    bench = run.Bench(repeat=3 if parser.parse_args().quick else 21)
    with tempfile.TemporaryDirectory() as raw:
        measure(bench, run.base_env(Path(raw)))
    print(bench.table())
