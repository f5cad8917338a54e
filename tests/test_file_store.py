"""The encrypted vault: passphrases, tampering, crash safety, permissions, no plaintext."""

import functools
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_PASSPHRASE

from authsome.errors import BadPassphrase, CorruptData, StoreUnavailable
from authsome.factory import Context
from authsome.storage.file.store import FileStore
from authsome.util import crypto

WRITER = Path(__file__).with_name("writer.py")
SECRET = "ghp_SuperSecretTokenValue_1234567890abcdef"


def file_env(env, passphrase=TEST_PASSPHRASE):
    return {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": passphrase}


def store_for(env) -> FileStore:
    store = Context(env).store_choice.store
    assert isinstance(store, FileStore)
    return store


def test_vault_format_and_kdf_parameters(env, authsome_home):
    store_for(file_env(env)).set("github:default", SECRET)
    doc = json.loads((authsome_home / "vault").read_text())
    assert doc["format"] == "authsome-vault" and doc["version"] == 1
    # OWASP's minimum for scrypt: N=2^17, r=8, p=1.
    assert doc["kdf"]["name"] == "scrypt"
    assert doc["kdf"]["n"] >= 2**17 and doc["kdf"]["r"] >= 8 and doc["kdf"]["p"] >= 1
    assert len(crypto.b64d(doc["kdf"]["salt"])) == 16


def test_salt_differs_between_vaults(env, tmp_path):
    salts = []
    for name in ("a", "b"):
        e = {**file_env(env), "AUTHSOME_HOME": str(tmp_path / name)}
        store_for(e).set("x:default", "v")
        salts.append(json.loads((tmp_path / name / "vault").read_text())["kdf"]["salt"])
    assert salts[0] != salts[1]


def test_wrong_passphrase_is_refused_and_changes_nothing(env, authsome_home):
    store_for(file_env(env)).set("github:default", SECRET)
    before = (authsome_home / "vault").read_bytes()
    wrong = store_for(file_env(env, "not the passphrase"))
    with pytest.raises(BadPassphrase, match="wrong passphrase"):
        wrong.get("github:default")
    with pytest.raises(BadPassphrase):
        wrong.set("other:default", "value")
    assert (authsome_home / "vault").read_bytes() == before


def _tamper(path: Path, mutate) -> bytes:
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    return path.read_bytes()


def test_flipped_ciphertext_bit_is_detected_and_never_overwritten(env, authsome_home):
    store = store_for(file_env(env))
    store.set("github:default", SECRET)
    store.set("openai:default", "sk-other")
    vault = authsome_home / "vault"

    def flip(doc):
        blob = bytearray(crypto.b64d(doc["records"]["github:default"]))
        blob[20] ^= 0x01
        doc["records"]["github:default"] = crypto.b64e(bytes(blob))

    tampered = _tamper(vault, flip)
    fresh = store_for(file_env(env))
    with pytest.raises(CorruptData, match=r"is damaged \(corrupted or tampered\)"):
        fresh.get("github:default")
    with pytest.raises(CorruptData):
        fresh.set("new:default", "value")
    assert vault.read_bytes() == tampered


def test_swapped_records_are_detected(env, authsome_home):
    store = store_for(file_env(env))
    store.set("github:default", SECRET)
    store.set("gitlab:default", "glpat-other")

    def swap(doc):
        r = doc["records"]
        r["github:default"], r["gitlab:default"] = r["gitlab:default"], r["github:default"]

    _tamper(authsome_home / "vault", swap)
    with pytest.raises(CorruptData):
        store_for(file_env(env)).get("github:default")


@pytest.mark.parametrize(
    "garbage", [b"", b"{not json", b'{"format": "authsome-vault"}', b"\x00\xff" * 10]
)
def test_unreadable_vault_is_corrupt_data(env, authsome_home, garbage):
    store_for(file_env(env)).set("github:default", SECRET)
    vault = authsome_home / "vault"
    vault.write_bytes(garbage)
    store = store_for(file_env(env))
    with pytest.raises(CorruptData, match="corrupted or tampered"):
        store.get("github:default")
    with pytest.raises(CorruptData):
        store.set("github:default", "new")
    assert vault.read_bytes() == garbage


def test_unknown_vault_version_says_upgrade(env, authsome_home):
    store_for(file_env(env)).set("github:default", SECRET)
    _tamper(authsome_home / "vault", lambda d: d.__setitem__("version", 99))
    with pytest.raises(CorruptData, match="Upgrade authsome"):
        store_for(file_env(env)).get("github:default")


def test_vault_copied_to_another_machine_opens_with_passphrase(env, tmp_path):
    store_for(file_env(env)).set("github:default", SECRET)
    other_home = tmp_path / "other-machine" / ".authsome"
    other_home.mkdir(parents=True)
    shutil.copy(Path(env["AUTHSOME_HOME"]) / "vault", other_home / "vault")
    other = {**file_env(env), "AUTHSOME_HOME": str(other_home), "HOME": str(other_home.parent)}
    assert store_for(other).get("github:default") == SECRET


def test_passphrase_file(env, tmp_path):
    pfile = tmp_path / "pass.txt"
    pfile.write_text(TEST_PASSPHRASE + "\n")
    pfile.chmod(0o600)
    store_for(file_env(env)).set("github:default", SECRET)
    e = {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE_FILE": str(pfile)}
    assert store_for(e).get("github:default") == SECRET


def test_no_passphrase_and_no_terminal_is_store_unavailable(env):
    store_for(file_env(env)).set("github:default", SECRET)
    e = {**env, "AUTHSOME_BACKEND": "file"}
    # Run in a subprocess without a controlling terminal, as CI and agents do.
    code = (
        "from authsome.factory import Context\n"
        "from authsome.errors import StoreUnavailable\n"
        "try:\n Context().store_choice.store.get('github:default')\n"
        "except StoreUnavailable as e: print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=e,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
    )
    assert "is locked and there is no terminal" in out.stdout
    assert "authsome unlock" in out.stdout
    assert StoreUnavailable  # the class the subprocess caught


def test_modes_are_private(env, authsome_home):
    os.umask(0o022)
    store_for(file_env(env)).set("github:default", SECRET)
    assert stat.S_IMODE(authsome_home.stat().st_mode) == 0o700
    for path in authsome_home.rglob("*"):
        want = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == want, path


def _scan(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_secret_bytes_appear_nowhere_in_home(env, isolated_home):
    store_for(file_env(env)).set("github:default", SECRET)
    assert _scan(isolated_home, SECRET.encode()) == []
    assert _scan(isolated_home, TEST_PASSPHRASE.encode()) == []
    assert any(isolated_home.rglob("vault"))


def test_sigkill_during_writes_always_leaves_an_openable_vault(env, authsome_home, monkeypatch):
    """Writers are killed with SIGKILL at random instants; the vault always opens."""
    # The checks open the vault by its passphrase, reading salt and cost from its header each
    # time; scrypt is a pure function of those, so it is paid once per distinct header.
    monkeypatch.setattr(crypto, "derive_key", functools.cache(crypto.derive_key))
    e = file_env(env)
    store = store_for(e)
    store.set("seed:default", "seed")
    doc = store.read()
    session = Context(e).sessions.create(store.path, doc.salt, store.key_for(doc), 600)
    writer_env = {**e, "AUTHSOME_SESSION": session.token}
    del writer_env["AUTHSOME_PASSPHRASE"]  # writers use the unlocked session: no KDF delay
    rng = random.Random(1234)
    for round_ in range(12):
        procs = [
            subprocess.Popen(
                [sys.executable, str(WRITER), f"w{round_}-{n}", "-1", "20000"],
                env=writer_env,
                stdout=subprocess.PIPE,
            )
            for n in range(2)
        ]
        for p in procs:
            assert p.stdout.readline() == b"writing\n"
        time.sleep(rng.uniform(0.0, 0.15))
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        check = store_for(e)
        for key in check.list():
            assert check.get(key) is not None
    assert store_for(e).get("seed:default") == "seed"


def test_fast_and_public_aesgcm_are_the_same_cipher():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = crypto.random_bytes(32)
    blob = crypto.seal(key, b"payload", b"aad")
    nonce, body = blob[:12], blob[12:]
    assert AESGCM(key).decrypt(nonce, body, b"aad") == b"payload"
    theirs = AESGCM(key).encrypt(nonce, b"other", b"aad")
    assert crypto.unseal(key, nonce + theirs, b"aad") == b"other"


@pytest.mark.slow
def test_bit_flips_in_the_header_say_damaged_never_wrong_passphrase(env, authsome_home):
    """A flipped bit in the kdf settings, salt or key check was read as a wrong passphrase,
    which sends people hunting for a passphrase that was right all along."""
    store_for(file_env(env)).set("github:default", SECRET)
    vault = authsome_home / "vault"
    pristine = vault.read_bytes()
    header_end = pristine.index(b'"records"')
    rng = random.Random(8)
    outcomes = {"damaged": 0, "opened": 0}
    for _ in range(180):
        flipped = bytearray(pristine)
        flipped[rng.randrange(header_end)] ^= 1 << rng.randrange(8)
        vault.write_bytes(bytes(flipped))
        try:
            assert store_for(file_env(env)).get("github:default") == SECRET
            outcomes["opened"] += 1  # the flip hit nothing that matters (a key's name, say)
        except CorruptData as e:
            # A flipped version number reads as a newer format: exit 6 as well.
            assert "damaged" in str(e) or "format version" in str(e)
            outcomes["damaged"] += 1
    assert outcomes["damaged"] >= 170, outcomes


def test_a_huge_kdf_cost_in_the_header_is_refused_before_it_is_paid(
    env, authsome_home, monkeypatch
):
    store_for(file_env(env)).set("github:default", SECRET)
    vault = authsome_home / "vault"
    doc = json.loads(vault.read_text())
    doc["kdf"]["n"] = 2**22  # 4 GiB of memory for scrypt
    vault.write_text(json.dumps(doc))
    paid = []
    real = crypto.derive_key
    monkeypatch.setattr(crypto, "derive_key", lambda *a, **k: paid.append(a) or real(*a, **k))
    with pytest.raises(CorruptData, match="damaged"):
        store_for(file_env(env)).get("github:default")
    assert paid == []  # refused from the header alone: scrypt never ran
