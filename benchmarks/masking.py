"""The benchmark suite's rows for `run`'s masked output (run.py calls measure()).

- Throughput: a child (`cat`) writes 100 MB through `run openai`, whose stdout is a pipe the
  benchmark reads and discards, timed from the first byte to the last (start-up excluded).
  --no-masking (exec: cat writes the pipe itself) for comparison. The relay's CPU time (less
  the start-up's, from `run openai -- true`, and cat's) is shown too: on a busy machine the
  wall-clock rate says more of the machine than of the relay.
- The matcher alone, in process, on 64 KiB reads: one bytes.find per secret (what Masker does)
  against one compiled regex alternation of the escaped secrets.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

AUTHSOME = str(Path(sys.executable).parent / "authsome")
KEY = "sk-bench-0123456789abcdefghijklmnop"
PASSPHRASE = "benchmark passphrase"
SIZE = 100_000_000


def _must(argv, env, stdin=None) -> str:
    out = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"set-up failed: {argv}: {out.stderr.strip()}")
    return out.stdout


def _drained(argv, env) -> tuple[float, float]:
    """`argv`'s stdout, a pipe, read to the end and discarded: the seconds from its first byte
    to its end (start-up excluded, with no subtraction to add noise), and the CPU time of
    `argv` and its children, user and system."""
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
    buf = bytearray(1 << 16)
    first = None
    while child.stdout.readinto(buf):
        first = first or time.perf_counter()
    end = time.perf_counter()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"benchmark command failed: {argv}")
    return end - (first or end), usage.ru_utime + usage.ru_stime


def throughput(b, env: dict[str, str], blob: Path) -> None:
    runs = 3 if b.repeat < 5 else 7
    run = [AUTHSOME, "run", "openai", "--"]
    ways = {"start": [*run, "true"], "masked": [*run, "cat", str(blob)],
            "plain": [AUTHSOME, "run", "--no-masking", "openai", "--", "cat", str(blob)],
            "cat": ["cat", str(blob)]}  # fmt: skip
    got: dict[str, list] = {way: [] for way in ways}
    for _ in range(runs):  # interleaved, so that a busy spell hits each alike
        for way, argv in ways.items():
            got[way].append(_drained(argv, env))
    (_, start_cpu), (masked, masked_cpu), (plain, _), (_, cat_cpu) = (
        tuple(statistics.median(x) for x in zip(*got[way], strict=True)) for way in ways
    )
    relay_cpu = masked_cpu - start_cpu - cat_cpu
    rate, cpu_rate = SIZE / masked / 1e6, SIZE / max(relay_cpu, 1e-9) / 1e6
    b.add("`run openai -- cat` 100 MB, masked (stdout a pipe), first byte to last", masked,
          "≥ 200 MB/s", rate >= 200, note=f"{rate:.0f} MB/s; the relay's own CPU: "
          f"{relay_cpu * 1000:.0f} ms, {cpu_rate:.0f} MB/s", ratio=False)  # fmt: skip
    b.add("… with --no-masking (exec: cat writes the pipe itself), for comparison", plain,
          note=f"{SIZE / plain / 1e6:.0f} MB/s", ratio=False)  # fmt: skip


def _rate(feed, chunk: bytes, n: int) -> float:
    start = time.process_time()  # CPU: a busy machine slows every way alike
    for _ in range(n):
        feed(chunk)
    return n * len(chunk) / (time.process_time() - start) / 1e6


def matchers(b) -> None:
    """MB/s (of CPU time) of the two ways of finding secrets in 64 KiB reads of random bytes;
    Masker's cost grows with the number of secrets (one find each)."""
    from authsome.util.masking import Masker

    secrets = [KEY.encode(), b"ghp_" + b"x1" * 18, b"eyJ" + b"a9" * 300]
    chunk, n = os.urandom(1 << 16), 400 if b.repeat < 5 else 1600
    pattern = re.compile(b"|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    rate = _rate(Masker(secrets).feed, chunk, n)
    b.add("matcher in process, 3 secrets, 64 KiB reads: Masker.feed (bytes.find per secret)",
          None, note=f"{rate:.0f} MB/s")  # fmt: skip
    rate = _rate(lambda d: pattern.sub(b"X", d), chunk, n)
    b.add("… a compiled regex alternation of the same secrets, sub()", None,
          note=f"{rate:.0f} MB/s")  # fmt: skip
    many = [b"sk-" + os.urandom(20).hex().encode() for _ in range(40)]
    rate = _rate(Masker(many).feed, chunk, n // 4)
    b.add("… Masker.feed with 40 secrets (every provider connected)", None,
          note=f"{rate:.0f} MB/s")  # fmt: skip


def measure(b, base: dict[str, str]) -> None:
    """All the masking rows; `base` is an empty home's environment (run.py's base_env)."""
    env = {**base, "AUTHSOME_BACKEND": "file"}
    _must([AUTHSOME, "login", "openai"], {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE,
                                          "OPENAI_API_KEY": KEY})  # fmt: skip
    shell = _must(
        [AUTHSOME, "unlock", "--shell", "bash"], {**env, "AUTHSOME_PASSPHRASE": PASSPHRASE}
    )
    env["AUTHSOME_SESSION"] = shell.split("'")[1]
    blob = Path(base["AUTHSOME_HOME"]).parent / "100MB"
    with open(blob, "wb") as f:  # random bytes, the key nowhere in them
        for _ in range(SIZE // (1 << 20)):
            f.write(os.urandom(1 << 20))
        f.write(os.urandom(SIZE % (1 << 20)))
    try:
        throughput(b, env, blob)
    finally:
        blob.unlink()
    matchers(b)
