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
    plain = b.timed([authsome, "run", "--", "true"], env)
    b.add("`run -- true` (five connections' variables), for comparison", plain)
    t = b.timed([authsome, "run", "--env-file", str(dotenv), "--", "true"], env)
    more = t - plain
    b.add("`run --env-file .env -- true`, five references", t, "≤ 10 ms over `run`",
          more <= 0.010, note=f"{more * 1000:+.1f} ms")  # fmt: skip


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
