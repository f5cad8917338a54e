"""util/runfolder.py: each run's private folder, and the sweep of those killed runs left."""

import os
import stat
import subprocess

import pytest

from authsome.util import runfolder


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_run_folder_is_private_and_named_by_its_process(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # gettempdir() reads TMPDIR again
    folder = runfolder.make()
    assert os.path.dirname(folder) == str(tmp_path)
    assert os.path.basename(folder).startswith(f"authsome-run-{os.getpid()}-")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_the_sweep_removes_only_this_users_folders_of_gone_processes(tmp_path):
    dead = _dead_pid()
    gone = tmp_path / f"authsome-run-{dead}-abc"
    gone.mkdir()
    (gone / "ca-bundle.pem").write_text("x")
    live = tmp_path / f"authsome-run-{os.getpid()}-abc"
    live.mkdir()
    unnamed = tmp_path / "authsome-run-abc"  # as runs before this one named them
    unnamed.mkdir()
    plain = tmp_path / f"authsome-run-{dead}-file"
    plain.write_text("x")
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / f"authsome-run-{dead}-link"
    link.symlink_to(target)
    assert runfolder.sweep(str(tmp_path)) == [str(gone)]
    assert not gone.exists()
    assert live.is_dir() and unnamed.is_dir() and plain.is_file() and target.is_dir()
    assert link.is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="making a folder another user owns needs root")
def test_the_sweep_leaves_another_users_folder(tmp_path):
    theirs = tmp_path / f"authsome-run-{_dead_pid()}-abc"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert runfolder.sweep(str(tmp_path)) == [] and theirs.is_dir()


def test_a_missing_base_sweeps_nothing(tmp_path):
    assert runfolder.sweep(str(tmp_path / "absent")) == []
