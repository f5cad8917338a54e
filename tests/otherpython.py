"""An authsome the second local user (realparts.OTHER_UID) can run, wherever the repo is.

The test venv's python may live where only root may enter (pyenv under /root, 0700), and the
repo may too (CI's checkout, a mktemp -d folder). setpriv's own execve still resolves such a
path with root's capabilities, but every later exec by the other uid (the `authsome` script's
shebang, the sandbox starting sys.executable, `authsome token` inside it) gets EACCES. So each
test process (each xdist worker) builds once a world-readable copy in a fresh 0755 folder: a
venv over the system's python of the same minor version, authsome's runtime dependencies
copied from this venv (their RECORD lists their files), authsome laid out as its wheel would
be, an `authsome` script, and the test helpers the other uid runs (copy_test_file).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from realparts import as_other_user, require_file

REPO = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
SCRIPT = """#!{python}
import sys
from authsome.main import main
if __name__ == "__main__":
    sys.exit(main())
"""


class OtherAuthsome:
    """`python` and `authsome` (in `bin`) that OTHER_UID can run; `root` is the folder."""

    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "venv" / "bin"
        self.python = str(self.bin / "python")
        self.authsome = str(self.bin / "authsome")

    def copy_test_file(self, name: str) -> str:
        """tests/`name`, copied where OTHER_UID may read it; its path."""
        target = self.root / "tests" / name
        if not target.exists():
            target.parent.mkdir(mode=0o755, exist_ok=True)
            shutil.copyfile(Path(__file__).with_name(name), target)
            target.chmod(0o644)
        return str(target)


_BUILT: list[OtherAuthsome] = []


def other_users_python() -> str:
    """The system's python, which any uid may run: for scripts of the standard library alone."""
    return str(require_file(SYSTEM_PYTHON, Path(SYSTEM_PYTHON).name))


def other_users_authsome() -> OtherAuthsome:
    """The copy for this test process, built on first use (a second or so)."""
    if not _BUILT:
        python = Path(other_users_python())
        root = Path(tempfile.mkdtemp(prefix="authsome-other-python-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        root.chmod(0o755)
        other = OtherAuthsome(root)
        _build(python, other)
        probe = subprocess.run(as_other_user([other.authsome, "--version"]),
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert probe.returncode == 0, f"the other user's authsome does not run: {probe.stderr}"
        _BUILT.append(other)
    return _BUILT[0]


def _build(python: Path, other: OtherAuthsome) -> None:
    # A venv by hand (what `python -m venv --without-pip` writes): no need for the venv module.
    venv = other.root / "venv"
    other.bin.mkdir(parents=True)
    config = f"home = {python.parent}\ninclude-system-site-packages = false\n"
    (venv / "pyvenv.cfg").write_text(config)
    (other.bin / "python").symlink_to(python)
    where = "import site; print(site.getsitepackages()[0])"
    found = subprocess.run([other.python, "-c", where], check=True, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    site = Path(found.stdout.strip())
    site.mkdir(parents=True)
    for dist in _runtime_distributions():
        _copy_distribution(dist, site)
    _copy_authsome(site / "authsome")
    # Compiled now, as root: the other user could not write __pycache__ (nor should it).
    subprocess.run([other.python, "-m", "compileall", "-q", str(site)], check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    Path(other.authsome).write_text(SCRIPT.format(python=other.python))
    Path(other.authsome).chmod(0o700)
    _readable_by_all(other.root)


def _readable_by_all(root: Path) -> None:
    """Folders 0755, files 0644 or 0755 (whatever the umask made them): OTHER_UID reads it all."""
    for folder, dirs, files in os.walk(root):
        for path in (os.path.join(folder, name) for name in dirs + files):
            if not os.path.islink(path):
                executable = os.path.isdir(path) or os.access(path, os.X_OK)
                os.chmod(path, 0o755 if executable else 0o644)  # noqa: S103 - meant for all


def _runtime_distributions() -> list[metadata.Distribution]:
    """authsome's dependencies (no extras), and theirs, as installed in this venv."""
    from packaging.requirements import Requirement

    found: dict[str, metadata.Distribution] = {}
    todo = list(metadata.requires("authsome") or [])
    while todo:
        requirement = Requirement(todo.pop())
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name not in found:
            found[name] = metadata.distribution(requirement.name)
            todo += found[name].requires or []
    return list(found.values())


def _copy_distribution(dist: metadata.Distribution, site: Path) -> None:
    here = Path(sysconfig.get_path("purelib")).resolve()
    for file in dist.files or []:
        source = Path(dist.locate_file(file)).resolve()
        if not source.is_relative_to(here) or not source.is_file():
            continue  # a script in bin/: the other user runs only `authsome`
        target = site / source.relative_to(here)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)  # keeps mtimes: the copied .pyc files stay valid


def _copy_authsome(target: Path) -> None:
    """The package from the source tree, with the data the wheel adds (pyproject's
    force-include), which authsome.util.resources looks for beside the package."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "authsome", target, ignore=ignore)
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    included = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for source, destination in included.items():
        path = target.parent / destination
        path.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / source).is_dir():
            shutil.copytree(REPO / source, path, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copyfile(REPO / source, path)
