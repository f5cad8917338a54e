"""Foundation figures: KDF time, keychain probe time, `authsome doctor` wall time.

Run: .venv/bin/python benchmarks/foundation.py   (needs dbus-daemon and gnome-keyring)
Every figure is a median over repeated runs; ratios are to `python -c pass`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
AUTHSOME = str(Path(sys.executable).parent / "authsome")


def median_run(argv, env, repeat=REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from realparts import SecretService

    from authsome.storage import keychain
    from authsome.util import crypto

    rows = []
    salt = os.urandom(16)
    kdf = statistics.median(
        _timed(lambda: crypto.derive_key("passphrase", salt, **crypto.SCRYPT_PARAMS))
        for _ in range(5)
    )
    rows.append(("scrypt KDF (N=2^17, r=8, p=1)", kdf, None))

    with tempfile.TemporaryDirectory() as tmp:
        base = {
            k: v
            for k, v in os.environ.items()
            # Users' installs have bytecode: let Python write it rather than recompile each run.
            if k
            not in (
                "DBUS_SESSION_BUS_ADDRESS",
                "XDG_RUNTIME_DIR",
                "AUTHSOME_BACKEND",
                "PYTHONDONTWRITEBYTECODE",
            )
        }
        base.update(HOME=tmp, AUTHSOME_HOME=f"{tmp}/.authsome")
        floor = median_run([sys.executable, "-c", "pass"], base)
        rows.append(("python -c pass (the floor)", floor, 1.0))
        probe_none = statistics.median(keychain.probe(base).seconds for _ in range(50))
        rows.append(("keychain probe, no D-Bus", probe_none, None))
        t = median_run([AUTHSOME, "doctor"], base)
        rows.append(("authsome doctor, no D-Bus", t, t / floor))
        service = SecretService(Path(tmp) / "ss")
        try:
            with_bus = {**base, **service.env()}
            probe_bus = statistics.median(keychain.probe(with_bus).seconds for _ in range(20))
            rows.append(("keychain probe, D-Bus + gnome-keyring", probe_bus, None))
            t = median_run([AUTHSOME, "doctor"], with_bus)
            rows.append(("authsome doctor, D-Bus + gnome-keyring", t, t / floor))
        finally:
            service.stop()
    print(f"{'measure':45} {'median':>10} {'ratio':>7}")
    for name, seconds, ratio in rows:
        r = f"{ratio:6.2f}x" if ratio else ""
        print(f"{name:45} {seconds * 1000:8.3f} ms {r:>7}")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
