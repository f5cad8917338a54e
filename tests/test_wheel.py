"""The built wheel installs into a fresh venv, runs, and carries its data folders."""

import fcntl
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from realparts import require

import authsome

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """A fresh venv with the wheel built from this tree installed into it, made once per run.

    Under -n each worker has its own session, and this module's tests land on several: the
    first to take the lock builds in the folder all workers share, the others wait and reuse
    it (xdist's own grouping, --dist=loadgroup, does nothing under pytest 9.2)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    work = shared / "wheel"
    with open(shared / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (shared / "wheel-failed").exists():  # one try per run, not one per worker
            pytest.fail((shared / "wheel-failed").read_text())
        if not (work / "built").exists():
            try:
                _build(work)
            except BaseException as e:
                (shared / "wheel-failed").write_text(f"building the wheel failed: {e!r}"[:2000])
                raise
            (work / "built").touch()
    wheels = list(work.glob("authsome-*.whl"))
    assert len(wheels) == 1, wheels
    return work / "venv", wheels[0]


def _build(work: Path) -> None:
    work.mkdir()
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work), ROOT],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = subprocess.run(
        [env_dir / "bin" / "pip", "install", "-q", *work.glob("authsome-*.whl")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr


def test_wheel_name_carries_the_version(installed):
    assert installed[1].name.startswith(f"authsome-{authsome.__version__}-")


def test_installed_command_runs(installed, env, tmp_path):
    out = subprocess.run(
        [installed[0] / "bin" / "authsome", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert out.stdout == f"authsome {authsome.__version__}\n"


def test_installed_package_finds_its_data(installed, env, tmp_path):
    code = (
        "import authsome.util.resources as r\n"
        "for name in ('providers', 'shell', 'completions'):\n"
        "    d = r.data_dir(name)\n"
        "    assert d.is_dir() and 'site-packages' in str(d), d\n"
        "    print(name, sorted(p.name for p in d.iterdir()))\n"
    )
    out = subprocess.run(
        [installed[0] / "bin" / "python", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    listed = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    for name in ("providers", "shell", "completions"):
        shipped = sorted(p.name for p in (ROOT / name).iterdir())
        assert listed[name] == repr(shipped)


def test_installed_man_page_is_found_by_man(installed, env, tmp_path):
    page = installed[0] / "share" / "man" / "man1" / "authsome.1"
    assert page.read_text() == (ROOT / "packaging" / "man" / "authsome.1").read_text()
    # man looks in ../share/man beside each PATH entry, so the venv's bin is enough.
    out = subprocess.run(
        [require("man"), "-w", "authsome"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **{k: v for k, v in env.items() if k != "MANPATH"},
            "PATH": f"{installed[0] / 'bin'}:/usr/bin:/bin",
        },
        timeout=60,
    )
    assert out.stdout.strip() == str(page), out.stderr


def test_the_pages_errors_point_at_are_installed(installed, env, tmp_path):
    """A bad provider file's error names the schema's page by a path that exists once installed,
    not docs/providers.md of a source tree the user does not have."""
    import json
    import re

    providers = Path(env["AUTHSOME_HOME"]) / "providers"
    providers.mkdir(parents=True)
    (providers / "bad.json").write_text(json.dumps({"name": "bad", "auth_type": "nope"}))
    out = subprocess.run(
        [installed[0] / "bin" / "authsome", "inspect", "bad"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert out.returncode == 9, out.stderr
    page = re.search(r"schema: (\S+\.md)\)", out.stderr)
    assert page, out.stderr
    page = page.group(1)
    assert (
        "site-packages" in page
        and Path(page).read_text() == (ROOT / "docs" / "providers.md").read_text()
    )
    helper = subprocess.run(
        [installed[0] / "bin" / "docker-credential-authsome", "frob"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    page = re.search(r"lines in (\S+\.md)", helper.stdout)  # docker reads errors there
    assert page and Path(page.group(1)).is_file(), helper.stdout
