"""Unlock once per shell: real bash, zsh and fish eval the output; nothing secret on disk."""

import subprocess
import sys
from pathlib import Path

import pytest
from clitools import run
from conftest import TEST_PASSPHRASE
from ptyrun import PtyProcess
from realparts import require

from authsome.context import Context
from authsome.errors import UsageError
from authsome.session import parse_ttl

SECRET = "sk-unlock-secret-ABCDEF0123456789"
AUTHSOME = [sys.executable, "-m", "authsome"]
READ = (
    f'{sys.executable} -c "from authsome.context import Context; '
    "print(Context().store_choice.store.get('openai:default'))\""
)


@pytest.fixture
def vault_env(env, tmp_path):
    e = {**env, "AUTHSOME_BACKEND": "file", "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir(mode=0o700)
    Context({**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}).store_choice.store.set(
        "openai:default", SECRET
    )
    return e


SCRIPTS = {
    "bash": 'eval "$(AUTHSOME_PASSPHRASE="$P" {authsome} unlock --shell bash)" && {read}',
    "zsh": 'eval "$(AUTHSOME_PASSPHRASE="$P" {authsome} unlock --shell zsh)" && {read}',
    "fish": "AUTHSOME_PASSPHRASE=$P {authsome} unlock --shell fish | source; and {read}",
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_unlock_in_real_shell_then_children_need_no_passphrase(vault_env, shell):
    require(shell)
    script = SCRIPTS[shell].format(authsome=" ".join(AUTHSOME), read=READ)
    out = subprocess.run(
        [shell, "-c", script],
        env={**vault_env, "P": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == SECRET
    assert "Vault unlocked for this shell until" in out.stderr


def test_unlock_prints_only_shell_code(vault_env):
    out = subprocess.run(
        [*AUTHSOME, "unlock", "--shell", "bash"],
        env={**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("export AUTHSOME_SESSION='")
    assert TEST_PASSPHRASE not in out.stdout + out.stderr


def test_session_file_holds_neither_passphrase_nor_key(vault_env, tmp_path):
    e = {**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    ctx = Context(e)
    store = ctx.store_choice.store
    doc = store.read()
    key = store.key_for(doc)
    session = ctx.sessions.create(store.path, doc.salt, key, 60)
    files = list((tmp_path / "run" / "authsome").iterdir())
    assert [f.name for f in files] == [session.session_id]
    body = files[0].read_bytes()
    assert key not in body and TEST_PASSPHRASE.encode() not in body
    assert (files[0].stat().st_mode & 0o777) == 0o600
    assert ((tmp_path / "run" / "authsome").stat().st_mode & 0o777) == 0o700


def test_session_expires(vault_env):
    now = [1_000_000.0]
    e = {**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    ctx = Context(e, clock=lambda: now[0])
    store = ctx.store_choice.store
    doc = store.read()
    session = ctx.sessions.create(store.path, doc.salt, store.key_for(doc), 3600)
    assert ctx.sessions.open(session.token, store.path, doc.salt) is not None
    now[0] += 3601
    assert ctx.sessions.open(session.token, store.path, doc.salt) is None
    assert not (ctx.sessions.folder / session.session_id).exists()


def test_lock_ends_the_session(vault_env):
    script = (
        f'eval "$(AUTHSOME_PASSPHRASE="$P" {" ".join(AUTHSOME)} unlock --shell bash)"; '
        f'eval "$({" ".join(AUTHSOME)} lock --shell bash)"; '
        'echo "session=${AUTHSOME_SESSION:-unset}"; ls "$XDG_RUNTIME_DIR/authsome" | wc -l'
    )
    out = subprocess.run(
        ["bash", "-c", script],
        env={**vault_env, "P": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert out.stdout.split() == ["session=unset", "0"], out.stderr
    assert "Vault locked." in out.stderr


def test_session_with_wrong_key_is_ignored(vault_env):
    out = subprocess.run(
        [*AUTHSOME, "unlock"],
        env={**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    token = out.stdout.split("'")[1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    read = subprocess.run(
        ["bash", "-c", READ],
        env={**vault_env, "AUTHSOME_SESSION": forged},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert read.returncode != 0
    assert "is locked and there is no terminal" in read.stderr


def test_first_unlock_asks_twice_on_a_real_terminal_without_echo(env, tmp_path):
    e = {**env, "AUTHSOME_BACKEND": "file", "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir(mode=0o700)
    proc = PtyProcess([*AUTHSOME, "unlock", "--shell", "bash"], e)
    proc.expect(b"New passphrase for")
    proc.send(b"pty-secret-passphrase\n")
    proc.expect(b"Repeat the passphrase: ")
    proc.send(b"pty-secret-passphrase\n")
    assert proc.wait(60) == 0
    assert b"pty-secret-passphrase" not in proc.screen
    assert b"export AUTHSOME_SESSION=" in proc.screen
    vault = Path(e["AUTHSOME_HOME"]) / "vault"
    assert vault.exists() and b"pty-secret-passphrase" not in vault.read_bytes()


@pytest.mark.parametrize(
    ("backend", "why"),
    [(None, b"No desktop keychain here"), ("file", b"AUTHSOME_BACKEND=file")],
)
def test_a_new_passphrase_is_asked_for_with_the_reason(env, backend, why):
    """The first prompt of a new vault says why a passphrase is wanted at all."""
    e = {**env, **({"AUTHSOME_BACKEND": backend} if backend else {})}
    proc = PtyProcess([*AUTHSOME, "unlock"], e)
    proc.expect(b"New passphrase for")
    assert (
        why + b": authsome keeps secrets in an encrypted file. Choose a passphrase for it."
    ) in proc.screen
    proc.interrupt()
    assert proc.wait(60) == 130


def test_mismatched_new_passphrases_create_nothing(env, tmp_path):
    e = {**env, "AUTHSOME_BACKEND": "file"}
    proc = PtyProcess([*AUTHSOME, "unlock"], e)
    proc.expect(b"New passphrase for")
    proc.send(b"one\n")
    proc.expect(b"Repeat the passphrase: ")
    proc.send(b"two\n")
    assert proc.wait(60) == 2
    assert b"the two passphrases differ" in proc.screen
    assert not (Path(e["AUTHSOME_HOME"]) / "vault").exists()


def test_ctrl_c_at_the_prompt_exits_130(vault_env):
    proc = PtyProcess([*AUTHSOME, "unlock"], vault_env)
    proc.expect(b"Passphrase for")
    proc.interrupt()
    assert proc.wait(30) == 130
    assert b"authsome: cancelled." in proc.screen
    assert b"Traceback" not in proc.screen


@pytest.mark.parametrize(
    "text,seconds", [("90", 90), ("30m", 1800), ("8h", 28800), ("1d", 86400), ("7d", 604800)]
)
def test_parse_ttl(text, seconds):
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "8x", "h", "8d", "169h", "604801"])
def test_parse_ttl_rejects(text):
    with pytest.raises(UsageError):
        parse_ttl(text)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "dash"])
def test_real_shell_is_installed(shell):
    assert subprocess.run([require(shell), "-c", "exit 0"], timeout=30).returncode == 0


def test_unlock_ttl_is_at_most_seven_days(vault_env):
    e = {**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    out = run(["unlock", "--ttl", "8d"], e)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == "authsome: --ttl '8d' is longer than 7 days. Use 7d or less\n"
    assert run(["unlock", "--ttl", "7d"], e).returncode == 0


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620], ids=oct)
def test_a_passphrase_file_others_can_open_is_refused(vault_env, tmp_path, mode):
    pfile = tmp_path / "pass"
    pfile.write_text(TEST_PASSPHRASE + "\n")
    pfile.chmod(mode)
    e = {**vault_env, "AUTHSOME_PASSPHRASE_FILE": str(pfile)}
    out = run(["unlock"], e)
    assert out.returncode == 9 and out.stdout == ""
    assert out.stderr == (
        f"authsome: AUTHSOME_PASSPHRASE_FILE {pfile} is open to other users (mode {mode:04o})."
        f" Run: chmod 600 {pfile}\n"
    )
    pfile.chmod(0o600)
    assert run(["unlock"], e).returncode == 0
