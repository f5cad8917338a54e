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
    """$AUTHSOME_HOME made absolute, else ~/.authsome; settings.resolve_home says which.

    Paths are str on the hot paths: importing pathlib (with re, fnmatch, urllib.parse) would
    cost `token`, `env` and Tab more than the rest of their imports together."""
    if environ.get("AUTHSOME_HOME"):
        # Made absolute as Path.absolute() does: without normalizing "..", which a symlink
        # before it would change.
        home = os.path.expanduser(environ["AUTHSOME_HOME"])
        return _tidy(home if os.path.isabs(home) else os.path.join(os.getcwd(), home))
    return _tidy(os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".authsome"))


def _tidy(path: str) -> str:
    """`path` as str(pathlib.Path(path)) spells it: the vault's path is part of each unlocked
    session's sealed data, so it must read the same as when sessions were made with pathlib."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(path))
    parts = [p for p in path.split("/") if p and p != "."]
    lead = "//" if path[:2] == "//" and path[2:3] != "/" else "/" if path[:1] == "/" else ""
    return lead + "/".join(parts) or "."


class PermissionProblem(Frozen):
    __slots__ = ("path", "mode", "wanted")

    if TYPE_CHECKING:
        path: Path
        mode: int
        wanted: int

    def __str__(self) -> str:
        return f"{self.path} has mode {self.mode:04o}, should be {self.wanted:04o}"


class Home:
    """The folder that holds config, the index, the vault and user providers (paths as str)."""

    def __init__(self, path, source: str = "default"):
        self.path = os.fspath(path)
        self.source = source
        # What this process has seen already: token and env would otherwise read the version
        # file five times.
        self._format_ok = False
        self._ready = False

    config_file = property(lambda self: os.path.join(self.path, "config.json"))
    index_file = property(lambda self: os.path.join(self.path, INDEX_FILE))
    vault_file = property(lambda self: os.path.join(self.path, "vault"))
    providers_dir = property(lambda self: os.path.join(self.path, PROVIDERS_DIR))
    version_file = property(lambda self: os.path.join(self.path, "version"))
    locks_dir = property(lambda self: os.path.join(self.path, "locks"))
    journal_dir = property(lambda self: os.path.join(self.path, "journal"))
    audit_file = property(lambda self: os.path.join(self.path, "audit.log"))

    def check_format(self) -> None:
        """Refuse a home written by an authsome whose format this one does not know."""
        try:
            with open(self.version_file, encoding="ascii") as f:
                raw = f.read().strip()
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
            name in made_first or (name.startswith(".version.") and name.endswith(".tmp"))
            for name in os.listdir(self.path)
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
            with open(self.version_file, "rb") as f:
                current = f.read()
        except FileNotFoundError:
            current = b""
        if not current.strip():
            # Atomic, like the vault: a crash leaves no version file or a whole one.
            fsutil.atomic_write(self.version_file, f"{FORMAT_VERSION}\n".encode())
        self._ready = True
        return self

    def lock_path(self, name: str) -> str:
        """The lock file for `name`; its folder is made when the lock is first taken."""
        return os.path.join(self.locks_dir, f"{name}.lock")

    def permission_problems(self) -> list[PermissionProblem]:
        """Everything in the home whose mode is looser than 0700 (folders) or 0600 (files)."""
        from pathlib import Path  # doctor only

        root = Path(self.path)
        if os.name != "posix" or not root.exists():
            return []
        problems = []
        providers = root / PROVIDERS_DIR
        for path in [root, *sorted(root.rglob("*"))]:
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = st.st_mode & 0o777
            wanted = fsutil.DIR_MODE if stat.S_ISDIR(st.st_mode) else fsutil.FILE_MODE
            if path.is_relative_to(providers):
                # Provider files hold no secret (client secrets live in the store): others
                # may read them, as they may read the bundled ones, but never change them.
                wanted = mode & ~0o022
            if mode & ~wanted:
                problems.append(PermissionProblem(path, mode, wanted))
        return problems

    def fix_permissions(self) -> list[PermissionProblem]:
        """Tighten every loose mode; returns what was fixed."""
        problems = self.permission_problems()
        for p in problems:
            os.chmod(p.path, p.wanted)
        return problems
