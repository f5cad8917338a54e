"""Running the installed `authsome` console script in tests."""

import subprocess
import sys
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


def check_generated(script: str) -> subprocess.CompletedProcess:
    """Run `scripts/<script> --check`: non-zero when a checked-in generated file has drifted."""
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, str(root / "scripts" / script), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
