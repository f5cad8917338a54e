"""`run --env-file` with five references against plain `run` (#28): what reading a dotenv
file and resolving its references adds to starting a command."""

from __future__ import annotations

import sys
from pathlib import Path

KEYS = {  # bundled API-key providers, each logged in with a key its pattern accepts
    "openai": ("OPENAI_API_KEY", "sk-bench-0123456789abcdefghijklmnop"),
    "anthropic": ("ANTHROPIC_API_KEY", "sk-ant-bench-0123456789abcdefghijklmnop"),
    "groq": ("GROQ_API_KEY", "gsk_bench0123456789abcdefghijklmnop"),
    "mistral": ("MISTRAL_API_KEY", "benchmistral0123456789abcdefghij"),
    "deepseek": ("DEEPSEEK_API_KEY", "sk-bench0123456789abcdefghijklmnop"),
}
ENV_FILE = "".join(f"{var}=authsome://{name}/api_key\n" for name, (var, _) in KEYS.items())


def logged_in(base: dict[str, str], authsome: str, must, passphrase: str) -> dict[str, str]:
    """`base` with the five providers logged in to its file store, unlocked."""
    env = {**base, "AUTHSOME_BACKEND": "file"}
    for name, (var, key) in KEYS.items():
        must([authsome, "login", name], {**env, "AUTHSOME_PASSPHRASE": passphrase, var: key})
    shell = must(
        [authsome, "unlock", "--shell", "bash"], {**env, "AUTHSOME_PASSPHRASE": passphrase}
    )
    return {**env, "AUTHSOME_SESSION": shell.split("'")[1]}


def measure(b, tmp: Path, base_env, authsome: str, must, passphrase: str) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    env = logged_in(base_env(tmp), authsome, must, passphrase)
    dotenv = tmp / ".env"
    dotenv.write_text("# five references, no secret\n" + ENV_FILE)
    plain_argv = [authsome, "run", "--", "true"]
    argv = [authsome, "run", "--env-file", str(dotenv), "--", "true"]
    b.timed(plain_argv, env, repeat=3)  # sets the floor for this row's ratios
    # Interleaved: two blocks of runs minutes apart on a shared machine differ by more than
    # the cost measured. CPU time (user + system) is what the work itself costs.
    (plain, plain_cpu), (t, cpu) = interleaved(plain_argv, argv, env, b.repeat)
    b.add("`run -- true` (five connections' variables), for comparison", plain)
    more = t - plain
    b.add("`run --env-file .env -- true`, five references", t, "≤ 10 ms over `run`",
          more <= 0.010, note=f"{more * 1000:+.1f} ms")  # fmt: skip
    more = cpu - plain_cpu
    b.add("… the same, CPU time (user + system) over `run`'s", more, "≤ 10 ms", more <= 0.010,
          note=f"`run` {plain_cpu * 1000:.1f} ms CPU", ratio=False)  # fmt: skip


def interleaved(first, second, env, repeat: int):
    """((wall, CPU) median of `first`, the same of `second`), their runs alternating."""
    import resource
    import statistics
    import subprocess
    import time

    def once(argv) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime

    runs = [(once(first), once(second)) for _ in range(repeat + 2)][2:]
    return tuple(tuple(statistics.median(r[i][k] for r in runs) for k in (0, 1)) for i in (0, 1))


if __name__ == "__main__":  # these rows alone: python benchmarks/envfile.py [--quick]
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    import run as suite

    b = suite.Bench(repeat=3 if "--quick" in sys.argv else 21)
    with tempfile.TemporaryDirectory() as raw:
        b.floor = b.timed(suite.FLOOR, suite.base_env(Path(raw) / "floor"))
        measure(b, Path(raw) / "envfile", suite.base_env, suite.AUTHSOME, suite.must,
                suite.PASSPHRASE)  # fmt: skip
    print(b.table())
