"""Real file-system conditions for tests, made with the kernel's own tools (needs root): a small
tmpfs to fill up, a read-only bind mount, an immutable folder."""

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from realparts import IN_CI


def _run_as_root(argv: list[str], what: str) -> None:
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        message = f"cannot {what} ({out.stderr.strip()}); needs root"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)


class SmallDisk:
    """A tmpfs of `size` at `path`, and a way to fill it up and free it again."""

    def __init__(self, path: Path, size: str = "1m"):
        path.mkdir(mode=0o700, parents=True)
        _run_as_root(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
            "mount a small tmpfs",
        )
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        with open(self.filler, "ab", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@contextmanager
def read_only(path: Path):
    """`path` made read-only by a read-only bind mount of itself: EROFS for every write."""
    _run_as_root(["mount", "--bind", str(path), str(path)], "bind-mount a folder")
    try:
        _run_as_root(["mount", "-o", "remount,bind,ro", str(path)], "remount a folder read-only")
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextmanager
def immutable(folder: Path):
    """`folder` with the immutable attribute: its files can be written, but no name in it can
    be added, renamed or removed (EPERM), as a folder of someone else's would refuse them."""
    _run_as_root(["chattr", "+i", str(folder)], "make a folder immutable (chattr +i)")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
