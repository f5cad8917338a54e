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
