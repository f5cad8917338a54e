"""The README's install recipes, run as written in a fresh home: what a newcomer types first."""

import os
import re
import subprocess
from pathlib import Path

import pytest

import authsome

ROOT = Path(__file__).resolve().parents[1]


def install_blocks() -> list[str]:
    """The bash blocks of the README's Install section, in order: the user's, then root's."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def runnable(block: str) -> str:
    # apt-get installs python3-venv, which this machine has: the rest runs as written.
    return "set -e\n" + "\n".join(x for x in block.splitlines() if "apt-get" not in x)


def check_installed(bindir: Path, env: dict, man: Path) -> None:
    out = subprocess.run(
        [bindir / "authsome", "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout == f"authsome {authsome.__version__}\n", out.stderr
    # docker runs docker-credential-authsome from PATH: it must be linked next to authsome.
    out = subprocess.run(
        [bindir / "docker-credential-authsome", "version"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and "docker-credential-authsome" in out.stdout, out.stderr
    assert man.resolve().is_file()


@pytest.mark.slow
def test_the_users_recipe_installs_both_commands_and_the_man_page(tmp_path):
    home = tmp_path / "newcomer"
    home.mkdir()
    env = {"HOME": str(home), "PATH": f"{home}/.local/bin:/usr/bin:/bin", **_lang()}
    _run_recipe(install_blocks()[0], env)
    check_installed(home / ".local/bin", env, home / ".local/share/man/man1/authsome.1")


@pytest.mark.slow
def test_roots_recipe_installs_both_commands(tmp_path):
    # Root's recipe writes to /opt and /usr/local: run it with those folders moved under
    # tmp_path, so the test leaves the machine as it was. Nothing else in the lines changes.
    block = install_blocks()[1]
    assert "/opt/authsome" in block and "/usr/local/bin" in block
    block = block.replace("/opt/", f"{tmp_path}/opt/").replace("/usr/local/", f"{tmp_path}/usr/")
    (tmp_path / "usr/bin").mkdir(parents=True)
    env = {"HOME": str(tmp_path), "PATH": f"{tmp_path}/usr/bin:/usr/bin:/bin", **_lang()}
    _run_recipe(block, env)
    check_installed(tmp_path / "usr/bin", env, tmp_path / "usr/share/man/man1/authsome.1")


def _run_recipe(block: str, env: dict) -> None:
    """Run a README install block as bash runs it, from the clone, as the README says."""
    out = subprocess.run(
        ["bash", "-c", runnable(block)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]


def _lang() -> dict:
    return {"LANG": os.environ.get("LANG", "C.UTF-8")}
