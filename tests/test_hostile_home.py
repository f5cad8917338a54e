"""Whatever is in the home, authsome answers with its documented exit code and one line, never
"internal error" (exit 1) or a traceback (#24 items 9 and 15).

The fuzz test mutates the files a home holds (a provider file, config.json, index.json, the
vault's header, a journal entry and the record sealed in it) and runs a command against each
mutant: a few thousand cases in this process through authsome.main.main, and a sample through
the installed console script, all from a fixed seed so that a failure can be replayed.
"""

import json
import os
import random
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from clitools import HOSTILE_PROVIDER, run
from mounts import SmallDisk

SEED = 24
IN_PROCESS_CASES = 3000
SUBPROCESS_CASES = 60
OPENAI_KEY = "sk-test-1234567890abcdef"
GIZMO = {**HOSTILE_PROVIDER, "name": "gizmo", "api_key": {"env_var": "GIZMO_KEY"}}
GIZMO["export"] = {"env": {"api_key": "GIZMO_KEY"}}


def _one_line_error(out, code: int) -> None:
    assert out.returncode == code, out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.startswith("authsome: ") and out.stderr.count("\n") == 1, out.stderr


# -- 15. the named cases ------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["list"], ["token", "openai"], ["doctor"]])
def test_a_config_nested_a_thousand_deep_is_a_config_error(unlocked_env, authsome_home, argv):
    out = run(["login", "openai"], {**unlocked_env, "OPENAI_API_KEY": OPENAI_KEY})
    assert out.returncode == 0, out.stderr
    (authsome_home / "config.json").write_text("[" * 1000 + "]" * 1000)
    out = run(argv, unlocked_env)
    if argv == ["doctor"]:  # doctor reports it among its findings, and exits 11
        _one_line_error(out, 11)
        assert "config.json is nested too deeply" in out.stdout
    else:
        _one_line_error(out, 9)
        assert "config.json is nested too deeply" in out.stderr


def _journal_entry(env, **fields) -> Path:
    """A journal entry for testsrv made on top of the stored record, with `fields` replaced."""
    from authsome.factory import Context
    from authsome.storage.journal import fingerprint

    ctx = Context(env)
    base = ctx.connections.find("testsrv").secrets["refresh_token"]
    doc = {"key": "testsrv:default", "base": fingerprint(base), "own": None, "blob": "", **fields}
    path = Path(ctx.home.journal_dir) / "testsrv+default.pending"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps(doc) + "\n")
    return path


@pytest.mark.parametrize("argv", [["token", "testsrv"], ["env", "testsrv"], ["doctor", "--fix"]])
@pytest.mark.parametrize("blob", [5, None, ["x"], {"a": 1}])
def test_a_journal_entry_whose_blob_is_not_text_is_stale(testsrv, unlocked_env, argv, blob):
    out = run(["login", "testsrv"], unlocked_env)
    assert out.returncode == 0, out.stderr
    entry = _journal_entry(unlocked_env, blob=blob)
    out = run(argv, unlocked_env)
    assert out.returncode in (0, 11), out.stderr  # doctor --fix may find the keychain missing
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    assert not entry.exists()  # it could never be opened: removed, as a torn one is
    assert run(["token", "testsrv"], unlocked_env).stdout.strip() in testsrv.state.access


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 30])
def test_an_index_time_that_is_no_time_is_damage(unlocked_env, authsome_home, number):
    """Found by the fuzz test below: `list` turned these into seconds, and crashed."""
    assert run(["login", "openai"], {**unlocked_env, "OPENAI_API_KEY": OPENAI_KEY}).returncode == 0
    index = authsome_home / "index.json"
    index.write_text(index.read_text().replace('"expires_at": null', f'"expires_at": {number}'))
    out = run(["list"], unlocked_env)
    assert out.returncode == 0, out.stderr
    assert "rebuilt the index" in out.stderr and "openai" in out.stdout


@pytest.mark.parametrize("secrets", [{"refresh_token": "rt-x"}, {"access_token": 5}])
def test_a_record_without_its_credential_is_corrupt(testsrv, unlocked_env, secrets):
    """Found by the fuzz test below: a record sealed in the journal that lacks its access token
    (or holds one that is no text) was handed to `token`, which crashed."""
    from authsome.storage.journal import _aad, _key
    from authsome.util import crypto

    assert run(["login", "testsrv"], unlocked_env).returncode == 0
    record = _stored_record(unlocked_env)
    entry = _journal_entry(unlocked_env)
    doc = json.loads(entry.read_text())
    base = json.loads(record)["secrets"]["refresh_token"]
    record = json.dumps({**json.loads(record), "secrets": secrets}).encode()
    doc["blob"] = crypto.b64e(crypto.seal(_key(base), record, _aad("testsrv:default")))
    entry.write_text(json.dumps(doc) + "\n")
    out = run(["token", "testsrv"], unlocked_env)
    _one_line_error(out, 6)
    assert "the stored record testsrv:default is corrupt" in out.stderr


def _stored_record(env) -> str:
    from authsome.factory import Context

    return Context(env).connections.find("testsrv").to_json()


@pytest.fixture
def full_disk(tmp_path):
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.unmount()


def test_a_first_login_and_a_logout_on_a_full_disk_are_exit_12(passphrase_env, full_disk):
    env = {**passphrase_env, "AUTHSOME_HOME": str(full_disk.path / "home")}
    key_env = {**env, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["list"], env).returncode == 0  # the home exists, then the disk fills up
    full_disk.fill()
    out = run(["login", "openai"], key_env)
    assert out.returncode == 12, out.stderr
    assert f"cannot use {full_disk.path / 'home'}" in out.stderr
    assert "No space left on device. Free some disk space" in out.stderr
    assert "internal error" not in out.stderr and out.stderr.count("authsome: ") == 1
    full_disk.free()
    assert run(["login", "openai"], key_env).returncode == 0
    full_disk.fill()
    out = run(["logout", "openai"], env)
    _one_line_error(out, 12)
    assert "No space left on device" in out.stderr
    full_disk.free()
    assert run(["token", "openai"], env).stdout.strip() == OPENAI_KEY  # nothing half-done


# -- 9. links and strangers planted in the home -------------------------------------------------


def _plant(path: Path, kind: str, target: Path) -> Path:
    """Put a `kind` where authsome's own file `path` belongs; returns what must stay unchanged."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if kind == "symlink":
        path.symlink_to(target)
        return target
    if kind == "fifo":
        os.mkfifo(path, 0o600)
        return path
    path.write_text("someone else's\n")  # a file of another user's
    os.chown(path, 65534, 65534)
    path.chmod(0o644)
    return path


def _snapshot(path: Path):
    st = path.lstat()
    content = path.read_bytes() if stat.S_ISREG(st.st_mode) else None
    return st.st_mode, st.st_uid, content


@pytest.mark.parametrize("kind", ["symlink", "fifo", "other_users"])
def test_an_audit_log_planted_in_the_home_is_not_written_through(
    unlocked_env, authsome_home, tmp_path, kind
):
    env = {**unlocked_env, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "openai"], env).returncode == 0
    target = tmp_path / "target"
    target.write_text("not authsome's\n")
    target.chmod(0o644)
    kept = _plant(authsome_home / "audit.log", kind, target)
    before = _snapshot(kept)
    out = run(["token", "openai"], unlocked_env, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == OPENAI_KEY
    assert "could not write the audit log" in out.stderr
    assert _snapshot(kept) == before  # neither appended to nor chmod'ed


@pytest.mark.parametrize("kind", ["symlink", "fifo", "other_users"])
def test_a_journal_spare_planted_in_the_home_is_refused(
    testsrv, unlocked_env, authsome_home, tmp_path, kind
):
    testsrv.state.access_expires_in = 0  # expired: the next `token` must refresh
    assert run(["login", "testsrv"], unlocked_env).returncode == 0
    target = tmp_path / "target"
    target.write_text("not authsome's\n")
    kept = _plant(authsome_home / "journal" / ".testsrv+default.spare", kind, target)
    before = _snapshot(kept)
    out = run(["token", "testsrv"], unlocked_env, timeout=20)
    _one_line_error(out, 12)
    assert "cannot keep a new token for testsrv safe" in out.stderr
    assert _snapshot(kept) == before  # not overwritten with the reservation
    assert testsrv.state.count("/token", "refresh_token") == 0  # nothing was spent


# -- 15. the fuzz ------------------------------------------------------------------------------

DEEP = "\x00deep\x00"  # stands for a value nested 1,000 deep (json.dumps cannot write one)
HOSTILE = (
    *(None, True, False, 0, -1, 1.5, 2**70, -(2**63), float("inf"), float("nan"), 1e308),
    *("", "x" * 5000, "\x00", "é\u2028", "../../etc/passwd", "-1", "NaN", "a:b", "=", " "),
    *([], {}, [1, "a"], {"": None}, {"name": 5}, DEEP, DEEP),
)
SPLICES = (b"\xff", b"\x00", b"{", b"}", b"[", b'"', b"\\", b"\n", b"1e999", b"\xc3", b"[" * 1000)


def _spots(doc, skip=()) -> list:
    """Every (container, key) in `doc`, depth first; `skip` leaves out top-level keys."""
    found = []

    def walk(node, top):
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if not (top and key in skip):
                found.append((node, key))
                if isinstance(value, dict | list):
                    walk(value, False)

    if isinstance(doc, dict | list):
        walk(doc, True)
    return found


def _mutate_doc(rng: random.Random, doc, skip=()):
    """`doc` with one value replaced, removed, added or retyped (or replaced whole)."""
    spots, op = _spots(doc, skip), rng.random()
    if not spots or op < 0.05:
        return rng.choice(HOSTILE)
    node, key = rng.choice(spots)
    if op < 0.6:
        node[key] = rng.choice(HOSTILE)
    elif op < 0.75:
        node.pop(key)
    elif op < 0.9 and isinstance(node, dict):
        node[rng.choice(["x", "", "version", "key", "records", "flow", "backend"])] = rng.choice(
            HOSTILE
        )
    else:
        value = node[key]
        node[key] = rng.choice([str(value), [value], {"v": value}, len(str(value))])
    return doc


def _text(doc) -> bytes:
    text = json.dumps(doc, allow_nan=True)
    return text.replace(json.dumps(DEEP), "[" * 1000 + "]" * 1000).encode()


def _mutate_bytes(rng: random.Random, raw: bytes, end: int | None = None) -> bytes:
    """`raw` truncated, spliced, cut or flipped somewhere before `end`."""
    at = rng.randrange(0, max(1, min(len(raw), end or len(raw))))
    op = rng.randrange(5)
    if op == 0:
        return raw[:at]
    if op == 1:
        return raw[:at] + rng.choice(SPLICES) + raw[at:]
    if op == 2:
        return raw[:at] + raw[at + rng.randrange(1, 64) :]
    if op == 3 and raw:
        return raw[:at] + bytes([raw[at] ^ (1 << rng.randrange(8))]) + raw[at + 1 :]
    return rng.choice([b"", b"\xef\xbb\xbf{}", b"\x00" * 64, raw + raw])


class Home:
    """A logged-in home kept aside, laid anew before each case, and damaged in one place."""

    COMMANDS = (
        *(["list"], ["list", "--json"], ["token", "testsrv"], ["token", "openai"]),
        *(["env", "testsrv"], ["env", "openai", "--format", "json"], ["doctor"]),
        *(["doctor", "--fix"], ["logout", "openai"], ["login", "gizmo"], ["token", "gizmo"]),
        *(["providers"], ["inspect", "testsrv"]),
    )
    # It revokes at the server: each process loads the CA bundle for it (~0.2 s).
    SLOW = (["logout", "testsrv"],)

    def __init__(self, path: Path, runtime: Path, env: dict):
        from authsome.factory import Context
        from authsome.storage.journal import Journal

        self.path, self.runtime = path, runtime
        conn = Context(env).connections.find("testsrv")
        self.base, self.record = conn.secrets["refresh_token"], conn.to_json()
        Journal(path / "journal").write(conn.key, self.base, self.record, None)
        # Kept in memory: laying ~10 small files anew is cheaper than copying a tree.
        self.folders = sorted(p for p in path.rglob("*") if p.is_dir())
        self.saved = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}
        self.files = {
            "provider": path / "providers" / "testsrv.json",
            "config": path / "config.json",
            "index": path / "index.json",
            "vault": path / "vault",
            "journal": path / "journal" / "testsrv+default.pending",
        }

    def lay(self) -> None:
        shutil.rmtree(self.path)
        for folder in [self.path, *self.folders]:
            folder.mkdir(mode=0o700)
        for path, data in self.saved.items():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.close(fd)
        shutil.rmtree(self.runtime / "authsome-journal", ignore_errors=True)

    def damage(self, rng: random.Random) -> str:
        """Damage one file; returns what was done, to replay a failure."""
        name = rng.choice([*self.files, "record"])
        if name == "record":  # a hostile record, sealed as a journal entry that opens
            return self._seal(rng)
        path, op = self.files[name], rng.random()
        if op < 0.06:
            return f"{name}: {self._replace(path, rng)}"
        raw = path.read_bytes()
        # The vault's header (the rest is ciphertext, which only fails to open).
        end = raw.index(b'"records"') if name == "vault" else None
        if op < 0.35:
            path.write_bytes(_mutate_bytes(rng, raw, end))
            return f"{name}: bytes"
        doc = _mutate_doc(rng, json.loads(raw), skip=("records",) if end else ())
        path.write_bytes(_text(doc))
        return f"{name}: {_text(doc)[:300]!r}"

    def _seal(self, rng: random.Random) -> str:
        from authsome.storage.journal import _aad, _key, fingerprint
        from authsome.util import crypto

        if rng.random() < 0.3:
            plain = _mutate_bytes(rng, self.record.encode())
        else:
            plain = _text(_mutate_doc(rng, json.loads(self.record)))
        key = "testsrv:default"
        blob = crypto.seal(_key(self.base), plain, _aad(key))
        doc = {"key": key, "base": fingerprint(self.base), "own": None, "blob": crypto.b64e(blob)}
        self.files["journal"].write_text(json.dumps(doc) + "\n")
        return f"record: {plain[:300]!r}"

    @staticmethod
    def _replace(path: Path, rng: random.Random) -> str:
        path.unlink()
        how = rng.choice(["removed", "a folder", "a dangling link", "a link loop", "a link"])
        if how == "a folder":
            path.mkdir()
        elif how == "a dangling link":
            path.symlink_to(path.parent / "nowhere")
        elif how == "a link loop":
            path.symlink_to(path)
        elif how == "a link":
            path.symlink_to("/dev/null")
        return how


@pytest.fixture
def fuzz_home(oauth_server, passphrase_env, vault_template, tmp_path, monkeypatch):
    """testsrv, openai and gizmo logged in, a config.json and a journal entry; this process's
    environment is the shell's, and stdin is empty. The home is on a tmpfs where there is one
    for everybody (/dev/shm): laying it anew and writing to it are then ten times faster."""
    from conftest import unlock

    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="authsome-fuzz-", dir=shm or tmp_path))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    home = root / ".authsome"
    env = {**passphrase_env, "AUTHSOME_HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env = unlock(env, vault_template)
    env.update(OPENAI_API_KEY=OPENAI_KEY, GIZMO_KEY="gz-0123456789abcdefghij")
    env["AUTHSOME_HTTP_TIMEOUT"] = "5"
    (home / "providers").mkdir(mode=0o700)
    for provider in (oauth_server.provider(), GIZMO):
        (home / "providers" / f"{provider['name']}.json").write_text(json.dumps(provider))
    for ref in ("testsrv", "openai", "gizmo"):
        out = run(["login", ref], env)
        assert out.returncode == 0, out.stderr
    (home / "config.json").write_text(json.dumps({"audit": True, "backend": "file"}))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("sys.stdin", open(os.devnull))  # noqa: SIM115 - closed with the test
    yield Home(home, runtime, env)
    shutil.rmtree(root)


def _check(case: int, what: str, argv, code, stderr: str) -> None:
    where = f"case {case} ({what}), authsome {' '.join(argv)}: exit {code}: {stderr[-2000:]}"
    assert code != 1, where
    assert "Traceback" not in stderr and "internal error" not in stderr, where


@pytest.mark.slow  # ten seconds or more: its module starts early (conftest.py)
def test_a_damaged_home_never_gets_internal_error(fuzz_home, capsys):
    from authsome.main import main

    rng, codes = random.Random(SEED), {}
    for case in range(IN_PROCESS_CASES):
        fuzz_home.lay()
        what, argv = fuzz_home.damage(rng), rng.choice(Home.COMMANDS)
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main(list(argv))
        _check(case, what, argv, stop.value.code, capsys.readouterr().err)
        codes[stop.value.code] = codes.get(stop.value.code, 0) + 1
    assert len(codes) >= 6, codes  # the damage reached many outcomes, not one early refusal


def test_a_damaged_home_never_gets_internal_error_from_the_console_script(fuzz_home):
    env, rng = dict(os.environ), random.Random(SEED + 1)
    for case in range(SUBPROCESS_CASES):
        fuzz_home.lay()
        what, argv = fuzz_home.damage(rng), rng.choice(Home.COMMANDS + Home.SLOW)
        out = run(argv, env, input="", timeout=30)
        _check(case, what, argv, out.returncode, out.stderr)
