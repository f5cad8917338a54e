"""The authsome home folder: creation, format version and permission checks."""

from __future__ import annotations

import os
import stat

from authsome.errors import CorruptData
from authsome.util import fsutil
from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from pathlib import Path

FORMAT_VERSION = 1
INDEX_FILE = "index.json"
PROVIDERS_DIR = "providers"


def home_dir(environ: dict[str, str]) -> str:
    """settings.resolve_home's answer as a str, without pathlib: for Tab, which reads a file
    or two and would otherwise spend a third of its time importing pathlib. A test holds the
    two to the same answer."""
    if environ.get("AUTHSOME_HOME"):
        # Made absolute as Path.absolute() does: without normalizing "..", which a symlink
        # before it would change.
        home = os.path.expanduser(environ["AUTHSOME_HOME"])
        return home if os.path.isabs(home) else os.path.join(os.getcwd(), home)
    return os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".authsome")


class PermissionProblem(Frozen):
    __slots__ = ("path", "mode", "wanted")

    def __str__(self) -> str:
        return f"{self.path} has mode {self.mode:04o}, should be {self.wanted:04o}"


class Home:
    """The folder that holds config, the index, the vault and user providers."""

    def __init__(self, path: Path, source: str = "default"):
        self.path = path
        self.source = source
        # What this process has seen already: token and env would otherwise read the version
        # file five times.
        self._format_ok = False
        self._ready = False

    config_file = property(lambda self: self.path / "config.json")
    index_file = property(lambda self: self.path / INDEX_FILE)
    vault_file = property(lambda self: self.path / "vault")
    providers_dir = property(lambda self: self.path / PROVIDERS_DIR)
    version_file = property(lambda self: self.path / "version")
    locks_dir = property(lambda self: self.path / "locks")
    journal_dir = property(lambda self: self.path / "journal")
    audit_file = property(lambda self: self.path / "audit.log")

    def check_format(self) -> None:
        """Refuse a home written by an authsome whose format this one does not know."""
        try:
            raw = self.version_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError):
            raw = "?"
        if not raw and self._only_being_created():
            return  # a creation that was cut off: ensure() finishes it
        self._format_ok = raw == str(FORMAT_VERSION)
        if not self._format_ok:
            raise CorruptData(
                f"{self.path} has format version {raw!r}, which this authsome does not know"
                f" (it reads version {FORMAT_VERSION})",
                "upgrade authsome, or set AUTHSOME_HOME to another folder",
            )

    def _only_being_created(self) -> bool:
        """True when the home holds nothing yet but what its creation writes first."""
        # Earlier builds wrote the version file in place, so a kill or a full disk at that
        # moment left it empty; such a home has no secrets and is simply created again.
        made_first = {"version", "locks"}
        return all(
            p.name in made_first or (p.name.startswith(".version.") and p.name.endswith(".tmp"))
            for p in self.path.iterdir()
        )

    def ensure(self) -> Home:
        """Create the home (0700) with its version file (0600); check an existing one."""
        if self._ready:
            return self
        if not self._format_ok:
            self.check_format()
        fsutil.ensure_private_dir(self.path)
        if self._format_ok:
            self._ready = True
            return self
        try:
            current = self.version_file.read_bytes()
        except FileNotFoundError:
            current = b""
        if not current.strip():
            # Atomic, like the vault: a crash leaves no version file or a whole one.
            fsutil.atomic_write(self.version_file, f"{FORMAT_VERSION}\n".encode())
        self._ready = True
        return self

    def lock_path(self, name: str) -> Path:
        """The lock file for `name`; its folder is made when the lock is first taken."""
        return self.locks_dir / f"{name}.lock"

    def permission_problems(self) -> list[PermissionProblem]:
        """Everything in the home whose mode is looser than 0700 (folders) or 0600 (files)."""
        if os.name != "posix" or not self.path.exists():
            return []
        problems = []
        for path in [self.path, *sorted(self.path.rglob("*"))]:
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            wanted = fsutil.DIR_MODE if stat.S_ISDIR(st.st_mode) else fsutil.FILE_MODE
            if st.st_mode & 0o777 & ~wanted:
                problems.append(PermissionProblem(path, st.st_mode & 0o777, wanted))
        return problems

    def fix_permissions(self) -> list[PermissionProblem]:
        """Tighten every loose mode; returns what was fixed."""
        problems = self.permission_problems()
        for p in problems:
            os.chmod(p.path, p.wanted)
        return problems
