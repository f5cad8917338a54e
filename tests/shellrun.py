"""Eval authsome's output in the real shells and read variables back exactly."""

from __future__ import annotations

import subprocess
from pathlib import Path

from realparts import require

# How each shell writes one variable's value, byte for byte, to a file.
DUMP = {
    "bash": "printf '%s' \"${name}\" > {path}",
    "zsh": "printf '%s' \"${name}\" > {path}",
    "sh": "printf '%s' \"${name}\" > {path}",
    "fish": "printf '%s' ${name} > {path}",
}
BINARY = {"bash": "bash", "zsh": "zsh", "sh": "dash", "fish": "fish"}


def roundtrip(shell: str, code: str, names: list[str], workdir: Path, env=None) -> dict:
    """Run `code` in `shell`, then return the values of `names` as that shell sees them."""
    binary = require(BINARY[shell])
    lines = [code]
    for i, name in enumerate(names):
        lines.append(DUMP[shell].replace("{name}", name).replace("{path}", str(workdir / str(i))))
    script = workdir / "script"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = [binary, "--no-config", str(script)] if shell == "fish" else [binary, str(script)]
    out = subprocess.run(args, capture_output=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return {n: (workdir / str(i)).read_bytes().decode("utf-8") for i, n in enumerate(names)}
