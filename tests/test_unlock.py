"""Unlock once per login (the kernel user keyring), else per shell: real shells, real
terminals, a second uid; nothing secret on disk."""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, installed_env, run, wait_for
from conftest import TEST_PASSPHRASE
from otherpython import other_users_python
from ptyrun import PtyProcess
from realparts import require

from authsome.errors import UsageError
from authsome.factory import Context
from authsome.services.session import parse_ttl

SECRET = "sk-unlock-secret-ABCDEF0123456789"
AUTHSOME = [sys.executable, "-m", "authsome"]
READ = (
    f'{sys.executable} -c "from authsome.factory import Context; '
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
    assert "The encrypted file is unlocked for this shell only" in out.stderr  # AUTHSOME_KEYRING=0
    if shell == "fish":  # its hints are fish too, even though $SHELL is bash here
        assert "authsome unlock --shell fish | source" in out.stderr
        assert 'eval "$(' not in out.stderr


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
    assert not os.path.exists(os.path.join(ctx.sessions.folder, session.session_id))


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
    assert "The encrypted file is locked." in out.stderr


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


def test_short_and_mismatched_new_passphrases_are_asked_again_then_create_nothing(env):
    e = {**env, "AUTHSOME_BACKEND": "file"}
    proc = PtyProcess([*AUTHSOME, "unlock"], e)
    proc.expect_next(b"New passphrase for")
    proc.send(b"short\n")  # 5 characters: refused before the repeat is asked
    proc.expect_next(b"authsome: at least 8 characters: it is all that guards the file. Try again.")
    for _ in range(2):
        proc.expect_next(b"New passphrase for")
        proc.send(b"long enough one\n")
        proc.expect_next(b"Repeat the passphrase: ")
        proc.send(b"long enough two\n")
        proc.expect_next(b"authsome: the two passphrases differ. Try again.")
    assert proc.wait(60) == 2
    assert b"no passphrase chosen in 3 tries" in proc.screen
    assert not (Path(e["AUTHSOME_HOME"]) / "vault").exists()


def test_an_api_key_typed_first_survives_a_mistyped_new_passphrase(env):
    e = {**env, "AUTHSOME_BACKEND": "file"}
    key = "sk-" + "A1b2" * 12
    proc = PtyProcess([*AUTHSOME, "login", "openai"], e)
    proc.expect_next(b"OpenAI API key")
    proc.send(key.encode() + b"\n")
    proc.expect_next(b"New passphrase for")
    proc.send(b"long enough one\n")
    proc.expect_next(b"Repeat the passphrase: ")
    proc.send(b"long enough two\n")
    proc.expect_next(b"Try again.")
    proc.expect_next(b"New passphrase for")
    proc.send(TEST_PASSPHRASE.encode() + b"\n")
    proc.expect_next(b"Repeat the passphrase: ")
    proc.send(TEST_PASSPHRASE.encode() + b"\n")
    assert proc.wait(60) == 0, proc.screen
    out = run(["token", "openai"], {**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})
    assert out.stdout == key + "\n"


def test_a_wrong_passphrase_at_the_terminal_is_asked_again(vault_env):
    proc = PtyProcess([*AUTHSOME, "unlock"], vault_env)
    proc.expect_next(b"Passphrase for")
    proc.send(b"not the passphrase\n")
    proc.expect_next(b"authsome: wrong passphrase. Try again.")
    proc.expect_next(b"Passphrase for")
    proc.send(TEST_PASSPHRASE.encode() + b"\n")
    assert proc.wait(60) == 0, proc.screen
    assert b"AUTHSOME_SESSION" in proc.screen or b"Unlocked" in proc.screen


def test_three_wrong_passphrases_end_with_one_line_exit_5(vault_env):
    proc = PtyProcess([*AUTHSOME, "unlock"], vault_env)
    for _ in range(3):
        proc.expect_next(b"Passphrase for")
        proc.send(b"not the passphrase\n")
    assert proc.wait(60) == 5
    assert b"(3 tries). Run the command again; a forgotten passphrase" in proc.screen
    assert b"AUTHSOME_PASSPHRASE" not in proc.screen  # variables nobody set are not blamed


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


@pytest.mark.slow
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


# -- one unlock for the whole login: the kernel user keyring ---------------------------------

OPENAI_KEY = "sk-unlock-secret-ABCDEF0123456789"


@pytest.fixture
def keyring_env(env, tmp_path):
    """A vault with an openai login, and the keyring on (the default outside the tests). The
    login's unlock is locked again at the end: the user keyring outlives the test."""
    e = installed_env(env, tmp_path)
    login = {**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "openai"], login).returncode == 0
    yield e
    run(["lock"], e)


def _unlock(e, *args):
    """`eval "$(authsome unlock)"` in one bash, which then exits."""
    script = f'eval "$(authsome unlock {" ".join(args)})"; echo "s=${{AUTHSOME_SESSION-}}"'
    out = subprocess.run(
        ["bash", "-c", script],
        env={**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert out.returncode == 0, out.stderr
    return out


def _token_without_terminal(e):
    return run(["token", "openai"], e)  # a new session: no controlling terminal to prompt on


def _keyring_description(e) -> str:
    return f"authsome:session:{Path(e['AUTHSOME_HOME']) / 'vault'}"


def test_one_unlock_serves_a_new_terminal_without_a_passphrase(keyring_env, tmp_path):
    unlocked = _unlock(keyring_env)
    assert unlocked.stdout == "s=\n"  # nothing secret in the shell's environment
    assert "for every shell of your login" in unlocked.stderr
    # A new terminal: an interactive bash on its own pty, not a child of the one that unlocked.
    rc = tmp_path / "bashrc"
    rc.write_text("PS1='READY> '\n")
    proc = PtyProcess([require("bash"), "--rcfile", str(rc), "-i"], {**keyring_env, "TERM": "dumb"})
    try:
        proc.expect(b"READY> ")
        proc.send(b"authsome token openai; echo rc=$?\n")
        proc.expect(b"\nrc=", timeout=20)  # a passphrase prompt would wait here instead
        proc.expect(b"READY> ")
    finally:
        proc.close()
    assert OPENAI_KEY.encode() in proc.screen and b"\nrc=0" in proc.screen
    assert b"assphrase" not in proc.screen


def test_lock_ends_the_unlock_for_every_shell(keyring_env):
    _unlock(keyring_env)
    assert _token_without_terminal(keyring_env).stdout.strip() == OPENAI_KEY
    locked = run(["lock"], keyring_env)  # from another process than the one that unlocked
    assert (
        locked.returncode == 0 and "The encrypted file is locked in every shell." in locked.stderr
    )
    out = _token_without_terminal(keyring_env)
    assert out.returncode == 4 and "is locked" in out.stderr


def test_lock_also_locks_a_shell_that_unlocked_on_its_own(keyring_env):
    _unlock(keyring_env)  # shared through the kernel keyring
    # A shell where the kernel keyring is off: its unlock is its own, a token in its environment.
    token = _unlock({**keyring_env, "AUTHSOME_KEYRING": "0"}).stdout.strip().removeprefix("s=")
    alone = {**keyring_env, "AUTHSOME_KEYRING": "0", "AUTHSOME_SESSION": token}
    for e in (keyring_env, alone):
        assert _token_without_terminal(e).stdout.strip() == OPENAI_KEY
    locked = run(["lock"], keyring_env)  # from a third shell, which holds neither
    assert (
        locked.returncode == 0 and "The encrypted file is locked in every shell." in locked.stderr
    )
    for where, e in (("the kernel keyring's", keyring_env), ("its own", alone)):
        out = _token_without_terminal(e)
        assert out.returncode == 4 and "is locked" in out.stderr, f"{where} unlock outlived lock"


def test_doctor_says_where_the_unlock_lives(keyring_env):
    out = run(["doctor"], keyring_env)
    assert "unlock:    for every shell of this login (the kernel user keyring)" in out.stdout
    assert "session: none" in out.stdout
    _unlock(keyring_env)
    assert (
        "session: unlocked for every shell, kernel keyring" in run(["doctor"], keyring_env).stdout
    )
    off = run(["doctor"], {**keyring_env, "AUTHSOME_KEYRING": "0"}).stdout
    assert (
        "for one shell at a time: the kernel keyring cannot be used here (AUTHSOME_KEYRING=0)"
        in off
    )


def test_the_ttl_ends_the_unlock(keyring_env):
    from authsome.storage.file._userkeyring_linux import UserKeyring

    _unlock(keyring_env, "--ttl", "2")
    assert _token_without_terminal(keyring_env).stdout.strip() == OPENAI_KEY
    # The kernel forgets the key when the TTL runs out; then the unlock is over.
    wait_for(lambda: UserKeyring().get(_keyring_description(keyring_env)) is None)
    out = _token_without_terminal(keyring_env)
    assert out.returncode == 4 and "is locked" in out.stderr


# Runs as root: join a new session keyring holding the user keyring, as pam_keyinit gives a
# login, unlock, then start a process of another uid that inherits that session keyring.
AS_ROOT = r"""
import ctypes, subprocess, sys
from authsome.storage.file._userkeyring_linux import UserKeyring
kr = UserKeyring()
kr._ctl(1, None)                                  # KEYCTL_JOIN_SESSION_KEYRING: a new one
kr._ctl(8, ctypes.c_long(-4), ctypes.c_long(-3))  # KEYCTL_LINK: @u into it
subprocess.run([sys.argv[1], "unlock"], check=True, capture_output=True)
key = kr._find(sys.argv[3])
print("root reads", kr.get(sys.argv[3]) is not None, flush=True)
subprocess.run(
    ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.argv[2], "-c",
     sys.argv[4], str(kr._keyctl), str(key), sys.argv[3]],
    check=True,
)
"""
AS_NOBODY = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
keyctl, key, desc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
buf = ctypes.create_string_buffer(4096)
n = libc.syscall(keyctl, 11, ctypes.c_long(key), buf, ctypes.c_long(4096))
print("nobody reads", "yes" if n >= 0 else os.strerror(ctypes.get_errno()))
for ring in (-3, -4):  # the session keyring it inherited, its own user keyring
    found = libc.syscall(keyctl, 10, ctypes.c_long(ring), b"user", desc, ctypes.c_long(0))
    print("nobody finds", "yes" if found >= 0 else "no")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process of another uid needs root")
def test_another_uid_cannot_use_the_unlock(keyring_env):
    """Even a process of another uid that holds the unlocking login's session keyring (sudo -u,
    setpriv) cannot read or find the key: possessing it grants nothing, only the uid does."""
    require("setpriv")
    python = other_users_python()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            AS_ROOT,
            AUTHSOME_BIN,
            str(python),
            _keyring_description(keyring_env),
            AS_NOBODY,
        ],
        env={**keyring_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "root reads True",
        "nobody reads Permission denied",
        "nobody finds no",
        "nobody finds no",
    ], out.stdout


# Runs as root: a login's session keyring holding the user keyring, as above; a process of
# another uid that inherited it puts a key of the unlock's name into root's user keyring first,
# then root unlocks, then that process reads the key it put there.
PRE_EMPTED = r"""
import ctypes, json, subprocess, sys
from authsome.storage.file._userkeyring_linux import UserKeyring
authsome, python, desc, other = sys.argv[1:]
kr = UserKeyring()
kr._ctl(1, None)                                        # KEYCTL_JOIN_SESSION_KEYRING
kr._ctl(8, ctypes.c_long(-4), ctypes.c_long(-3))        # KEYCTL_LINK: @u into it
ring = kr._ctl(0, ctypes.c_long(-4), ctypes.c_long(0))  # KEYCTL_GET_KEYRING_ID: @u's serial
nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", other,
          str(kr._add_key), str(kr._keyctl), str(ring), desc]
def as_nobody(*args):
    return subprocess.run([*nobody, *args], check=True, capture_output=True, text=True).stdout
planted = as_nobody("plant").strip()
unlock = subprocess.run([authsome, "unlock"], capture_output=True, text=True)
read = as_nobody("read", planted)
print(json.dumps({"unlock": [unlock.returncode, unlock.stderr], "read": read}))
"""
OTHER_UID = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
add_key, keyctl, ring = (int(a) for a in sys.argv[1:4])
desc, action = sys.argv[4].encode(), sys.argv[5]
if action == "plant":
    print(libc.syscall(add_key, b"user", desc, b"planted", ctypes.c_size_t(7), ctypes.c_long(ring)))
else:
    buf = ctypes.create_string_buffer(4096)
    n = libc.syscall(keyctl, 11, ctypes.c_long(int(sys.argv[6])), buf, ctypes.c_long(4096))
    if n < 0:
        print(os.strerror(ctypes.get_errno()))
    else:
        print("its own key" if buf.raw[:n] == b"planted" else "something else")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process of another uid needs root")
def test_unlock_says_so_when_another_uid_put_a_key_of_its_name_first(keyring_env):
    require("setpriv")
    python = other_users_python()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PRE_EMPTED,
            AUTHSOME_BIN,
            str(python),
            _keyring_description(keyring_env),
            OTHER_UID,
        ],
        env={**keyring_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    code, err = result["unlock"]
    assert code == 0, err
    said = [line for line in err.splitlines() if "uid 65534" in line]
    assert len(said) == 1 and said[0].startswith("authsome: uid 65534 had put a key"), err
    # The unlock went into a key of root's own; what the other uid put there never held it.
    assert result["read"].strip() != "something else"
    assert _token_without_terminal(keyring_env).stdout.strip() == OPENAI_KEY


def test_without_the_keyring_unlock_is_per_shell_and_says_so(keyring_env):
    out = _unlock({**keyring_env, "AUTHSOME_KEYRING": "0"})
    assert out.stdout.startswith("s=") and len(out.stdout.strip()) > 10
    assert "for this shell only" in out.stderr and "(AUTHSOME_KEYRING=0)" in out.stderr
    assert _token_without_terminal(keyring_env).returncode == 4


# seccomp, as container runtimes set it up: add_key, request_key and keyctl fail with EPERM.
NO_KEY_CALLS = r"""
import ctypes, os, sys
class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]
LD, JEQ, RET, ALLOW, EPERM = 0x20, 0x15, 0x06, 0x7FFF0000, 0x00050000 | 1
insns = [(LD, 0, 0, 0), (JEQ, 3, 0, 248), (JEQ, 2, 0, 249), (JEQ, 1, 0, 250),
         (RET, 0, 0, ALLOW), (RET, 0, 0, EPERM)]
array = (Insn * len(insns))(*[Insn(*i) for i in insns])
prog = Prog(len(insns), array)
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0                      # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0     # PR_SET_SECCOMP, FILTER
os.execv(sys.argv[1], sys.argv[1:])
"""


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter uses x86_64 numbers")
def test_where_the_kernel_refuses_key_calls_unlock_falls_back_and_says_so(keyring_env):
    def blocked(*args, e):
        return subprocess.run(
            [sys.executable, "-c", NO_KEY_CALLS, AUTHSOME_BIN, *args],
            env=e,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
        )

    out = blocked("unlock", "--shell", "bash", e={**keyring_env, "AUTHSOME_PASSPHRASE": "x"})
    assert out.returncode == 5  # the filter is on: a wrong passphrase still reaches the vault
    out = blocked(
        "unlock", "--shell", "bash", e={**keyring_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    )
    assert out.returncode == 0, out.stderr
    assert "for this shell only" in out.stderr and "(Operation not permitted)" in out.stderr
    assert out.stdout.startswith("export AUTHSOME_SESSION='")
    session = out.stdout.split("'")[1]
    here = blocked("token", "openai", e={**keyring_env, "AUTHSOME_SESSION": session})
    assert here.returncode == 0 and here.stdout.strip() == OPENAI_KEY
    assert blocked("token", "openai", e=keyring_env).returncode == 4


def test_unlock_when_unlocked_says_so_and_keeps_the_session(vault_env):
    """Extending a session needs no passphrase: a second unlock must not do it silently."""
    first = run(
        ["unlock", "--shell", "bash"], {**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    )
    assert first.returncode == 0, first.stderr
    sessions = Path(vault_env["XDG_RUNTIME_DIR"]) / "authsome"
    before = sorted(p.name for p in sessions.iterdir())
    env = dict(vault_env)
    if "AUTHSOME_SESSION=" in first.stdout:  # no kernel keyring here: this shell's own session
        env["AUTHSOME_SESSION"] = first.stdout.split("AUTHSOME_SESSION=", 1)[1].split(";")[0]
        env["AUTHSOME_SESSION"] = env["AUTHSOME_SESSION"].strip().strip("'\"")
    again = run(["unlock", "--shell", "bash", "--ttl", "7d"], env)
    assert again.returncode == 0, again.stderr
    assert "the encrypted file is already unlocked for " in again.stderr
    assert "nothing changed" in again.stderr and "unset" not in again.stdout
    assert sorted(p.name for p in sessions.iterdir()) == before


def test_lock_typed_at_a_terminal_prints_no_shell_code(vault_env):
    run(["unlock", "--shell", "bash"], {**vault_env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})
    proc = PtyProcess([*AUTHSOME, "lock", "--shell", "bash"], vault_env)
    assert proc.wait(30) == 0
    assert b"The encrypted file is locked" in proc.screen and b"unset" not in proc.screen
    # Through eval, the shell code still comes: stdout is a pipe there.
    out = run(["lock", "--shell", "bash"], vault_env)
    assert out.stdout == "unset AUTHSOME_SESSION;\n" or "unset" in out.stdout
