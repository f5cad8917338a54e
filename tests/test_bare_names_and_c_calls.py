"""Bare file names keep their folder ("."); a keychain call that waits in C is bounded."""

import ctypes
import os
import sys
import tempfile
import threading

import pytest

from authsome.util import fsutil
from authsome.util.locking import file_lock


def test_ensure_private_dir_of_a_bare_name_parent(tmp_path, monkeypatch):
    # Path("vault").parent was Path("."); os.path.dirname("vault") is "".
    monkeypatch.chdir(tmp_path)
    assert os.path.isdir(fsutil.ensure_private_dir(os.path.dirname("vault")))


def test_file_lock_on_a_bare_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with file_lock("x.lock"):
        pass
    assert (tmp_path / "x.lock").exists()


def test_atomic_write_of_a_bare_name_keeps_its_temp_beside_it(tmp_path, monkeypatch):
    # mkstemp(dir=None) is $TMPDIR: another file system (EXDEV on rename), and out of reach of
    # remove_stale_temps. Path("x").parent was ".".
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "nowhere"))
    fsutil.atomic_write("x", b"data")
    assert (tmp_path / "x").read_bytes() == b"data"


@pytest.mark.skipif(sys.platform != "linux", reason="glibc system() retries waitpid on EINTR")
def test_keychain_bound_holds_for_a_call_that_stays_in_c(monkeypatch):
    # keyring's macOS backend calls Security.framework through ctypes: a Python-level SIGALRM
    # handler cannot run until that C call returns, so interrupted() no longer bounds it
    # (a keychain access prompt left unanswered hangs `token`). within() did.
    from authsome.errors import StoreUnavailable
    from authsome.storage.keychain import bounded

    monkeypatch.setattr(sys, "platform", "darwin")
    libc = ctypes.CDLL(None)
    held, release = os.pipe()
    # A C read of a pipe that nothing is written to until the bound has answered: it can only
    # answer while the call is still blocked. A bound that failed gets the byte after 30 s.
    guard = threading.Timer(30, os.write, (release, b"x"))
    guard.start()
    try:
        with pytest.raises(StoreUnavailable):
            bounded(lambda: libc.read(held, ctypes.create_string_buffer(1), 1), 0.2, "it")
    finally:
        guard.cancel()
        os.write(release, b"x")  # the read returns and its thread ends
