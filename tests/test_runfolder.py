"""util/runfolder.py: each run's private folder, and the sweep of those killed runs left."""

import fcntl
import os
import stat
import subprocess

import pytest

from authsome.util import runfolder


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _folder(base, pid, tail="abc", locked=False):
    path = base / f"authsome-run-{pid}-{tail}"
    path.mkdir()
    (path / "ca-bundle.pem").write_text("x")
    (path / runfolder.LOCK).write_text("")
    if locked:  # as a run in another pid namespace, or on another machine, holds it
        fd = os.open(path / runfolder.LOCK, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return path


def test_a_run_folder_is_private_named_by_its_process_and_held(tmp_path, monkeypatch):
    tmp_path = tmp_path / "temp"
    tmp_path.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads TMPDIR again
    folder, fd = runfolder.make()
    assert os.path.dirname(folder) == str(tmp_path)
    assert os.path.basename(folder).startswith(f"authsome-run-{os.getpid()}-")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    probe = os.open(os.path.join(folder, runfolder.LOCK), os.O_RDONLY)
    with pytest.raises(BlockingIOError):  # held while the run goes on
        fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    os.close(probe)
    runfolder.remove(folder, fd)
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_removes_only_this_users_folders_that_no_run_holds(tmp_path):
    dead = _dead_pid()
    gone = _folder(tmp_path, dead)
    unlocked = _folder(tmp_path, dead, "nolock")  # killed before it took its lock
    (unlocked / runfolder.LOCK).unlink()
    held = _folder(tmp_path, dead, "held", locked=True)
    live = _folder(tmp_path, os.getpid())
    older = tmp_path / "authsome-run-12345678"  # as runs before this one named them
    older.mkdir()
    plain = tmp_path / f"authsome-run-{dead}-file"
    plain.write_text("x")
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / f"authsome-run-{dead}-link"
    link.symlink_to(target)
    assert sorted(runfolder.sweep(str(tmp_path))) == sorted([str(gone), str(unlocked)])
    assert not gone.exists() and not unlocked.exists()
    assert held.is_dir() and live.is_dir() and older.is_dir()
    assert plain.is_file() and target.is_dir() and link.is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a folder another user owns needs root")
def test_the_sweep_leaves_another_users_folder(tmp_path):
    theirs = _folder(tmp_path, _dead_pid())
    os.chown(theirs, 65534, 65534)
    assert runfolder.sweep(str(tmp_path)) == [] and theirs.is_dir()


def test_a_missing_base_sweeps_nothing(tmp_path):
    assert runfolder.sweep(str(tmp_path / "absent")) == []
