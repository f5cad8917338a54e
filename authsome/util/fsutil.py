"""Private files: 0700 folders, 0600 files, atomic replacement."""

from __future__ import annotations

import errno
import os
import stat

# Paths are str or os.PathLike: the hot paths never import pathlib (see storage/home.py).
DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path) -> str:
    """Create `path` and its missing parents, each 0700; tighten `path` if it already exists.

    Every folder authsome makes goes through here. Parents that already exist ($HOME, /tmp)
    are left as they are.
    """
    path = os.fspath(path) or os.curdir  # "": the parent of a bare name, as Path(".")
    _make_private(path)
    if os.name == "posix" and (os.stat(path).st_mode & 0o777) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def _make_private(path: str) -> None:
    # Not makedirs: that makes the parents with the umask's mode (often 0755).
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
        return
    except FileNotFoundError:
        parent = os.path.dirname(path.rstrip(os.sep) or os.sep) or os.curdir
        if parent == path:
            raise
        _make_private(parent)
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:  # made by another process meanwhile
            return
    if os.name == "posix":
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask


def atomic_write(path, data: bytes, mode: int = FILE_MODE) -> None:
    """Replace `path` with `data`: temp file, fsync, rename, fsync the folder.

    A crash at any instant leaves either the old file or the new one.
    """
    import tempfile

    folder, name = os.path.split(os.fspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or os.curdir)
    try:
        with os.fdopen(fd, "wb") as f:
            if os.name == "posix":
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        import contextlib  # here: Tab imports this module and never writes

        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise named(e, path) from None
    fsync_dir(folder or os.curdir)


def named(e: BaseException, path) -> BaseException:
    """`e`, naming `path` if it is an OSError that names no file: a write or fsync on a full
    disk says only "No space left on device", and the person needs to know where."""
    if isinstance(e, OSError) and e.filename is None and e.errno is not None:
        return OSError(e.errno, e.strerror or os.strerror(e.errno), os.fspath(path))
    return e


def open_own(path, flags: int, mode: int = FILE_MODE) -> int:
    """os.open for a file of authsome's own in the home: a symbolic link planted there is not
    followed, and anything but a regular file of this user is refused (PermissionError)."""
    import stat

    nofollow = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO: no wait
    fd = os.open(path, flags | nofollow | getattr(os, "O_CLOEXEC", 0), mode)
    st = os.fstat(fd)
    if stat.S_ISREG(st.st_mode) and (os.name != "posix" or st.st_uid == os.geteuid()):
        return fd
    os.close(fd)
    raise PermissionError(errno.EPERM, "not a regular file of yours", os.fspath(path))


def fsync_dir(folder) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no directory handles for this)."""
    if os.name == "posix":
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def remove_stale_temps(path) -> None:
    """Delete temp files a killed writer of `path` left behind; call only under the lock."""
    import contextlib

    folder, name = os.path.split(os.fspath(path))
    prefix = f".{name}."  # the names atomic_write's mkstemp gives: .<name>.<random>.tmp
    for entry in os.listdir(folder or os.curdir):
        if entry.startswith(prefix) and entry.endswith(".tmp") and len(entry) > len(prefix) + 4:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, entry))


def write_private(path, data: bytes) -> None:
    """Create or truncate `path` with mode 0600 (no atomicity)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as e:
        raise named(e, path) from None


# Environment failures on a file, and what the person can do about each.
_OS_FIXES = {
    errno.ENOSPC: "free some disk space and run the command again",
    errno.EDQUOT: "free some space within your disk quota and run the command again",
    errno.EROFS: "the file system is read-only; set AUTHSOME_HOME to a writable folder",
    errno.EACCES: "check the owner and permissions of the authsome home (authsome doctor)",
    errno.EPERM: "check the owner and permissions of the authsome home (authsome doctor)",
    errno.ENOTDIR: "a file stands where a folder should be; move it aside",
    errno.EEXIST: "a file stands where a folder should be; move it aside",
    errno.EISDIR: "a folder stands where a file should be; move it aside",
    errno.ELOOP: "a symbolic link is in the way (authsome does not follow it); remove it",
    errno.ENXIO: "a special file stands where a file should be; move it aside",
    errno.ENAMETOOLONG: "use a shorter AUTHSOME_HOME",
    errno.EIO: "the disk reported an I/O error; check it",
}


def refuse_open(st: os.stat_result, path, name: str) -> None:
    """Refuse, as ssh does for keys, a regular file of secrets that other users may read or
    change: ConfigError naming it (`name`, such as VAULT_SECRET_ID_FILE) and the chmod."""
    if os.name == "posix" and stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
        import shlex

        from authsome.errors import ConfigError

        raise ConfigError(
            f"{name} {path} is open to other users (mode {st.st_mode & 0o777:04o})",
            f"run: chmod 600 {shlex.quote(str(path))}",
        )


def os_fix(e: OSError) -> str | None:
    """What the person can do about an environment failure, or None when it is not one."""
    return None if e.errno is None else _OS_FIXES.get(e.errno)


def filesystem_error(e: OSError):
    """A FilesystemError for an OSError on a file, or None when `e` is not about a file."""
    from authsome.errors import FilesystemError

    fix = os_fix(e)
    if fix is None or e.filename is None or e.errno is None:
        return None
    reason = e.strerror or os.strerror(e.errno)
    return FilesystemError(f"cannot use {e.filename}: {reason}", fix)


def not_own_problem(path, forbidden: int) -> str | None:
    """Why `path` cannot be trusted as this user's own: unreadable, another uid's, or with a
    mode bit of `forbidden` (0o077: private; 0o022: nobody else may write); None when it can.

    Session folders and the D-Bus socket are checked with it. Off POSIX there are no such modes.
    """
    try:
        st = os.stat(path)
    except OSError as e:
        return f"{path} cannot be read ({e.strerror})"
    if os.name != "posix":
        return None
    if st.st_uid != os.getuid():
        return f"{path} belongs to uid {st.st_uid}, not to you (uid {os.getuid()})"
    if st.st_mode & forbidden:
        return f"{path} is open to other users (mode {st.st_mode & 0o777:04o})"
    return None
