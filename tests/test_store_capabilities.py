"""Store capabilities, the one state rule, and a `list` that reads the index without a probe."""

import io
import json

import pytest
from conftest import TEST_PASSPHRASE
from memorystore import MemoryStore

from authsome.errors import CorruptData
from authsome.factory import Context
from authsome.services import session
from authsome.services.listing import rows
from authsome.shells import bash
from authsome.storage.base import Store
from authsome.storage.connection import (
    CONNECTED,
    EXPIRED,
    EXPIRES_SOON,
    NEEDS_LOGIN,
    Connection,
    state_of,
)

NOW = 1_000_000


@pytest.mark.parametrize(
    "entry,state",
    [
        ({}, CONNECTED),
        ({"status": "needs login", "expires_at": NOW + 9999}, NEEDS_LOGIN),
        ({"expires_at": NOW - 1}, EXPIRED),
        ({"expires_at": NOW - 1, "refreshable": True}, EXPIRES_SOON),
        ({"expires_at": NOW + 60, "updated_at": NOW - 3600}, EXPIRES_SOON),
        ({"expires_at": NOW + 3600, "updated_at": NOW - 3600}, CONNECTED),
        # A token that lives 200 s is not "expiring" all its life under a 300 s margin: the
        # margin is capped at half its lifetime.
        ({"expires_at": NOW + 120, "updated_at": NOW - 80}, CONNECTED),
        ({"expires_at": NOW + 90, "updated_at": NOW - 110}, EXPIRES_SOON),
    ],
)
def test_one_rule_decides_the_state(entry, state):
    assert state_of(entry, NOW, 300) == state


def test_the_rule_reads_a_record_through_its_index_entry():
    conn = Connection(provider="p", expires_at=NOW - 1, secrets={"refresh_token": "r"})
    assert state_of(conn.metadata("memory"), NOW, 300) == EXPIRES_SOON
    assert not hasattr(Connection, "state")


def test_a_store_without_capabilities_says_so():
    class Bare(Store):
        name = "bare"

        def describe(self):
            return "a bare store"

    store = Bare()
    assert (store.lists_cheaply, store.can_unlock) == (False, False)
    assert store.lock() == (False, False) and store.status() == {}
    with pytest.raises(NotImplementedError):
        store.unlock(60, print)


def _refuse_probe(environ):
    raise AssertionError("the keychain was probed")


def test_list_reads_the_index_without_choosing_a_store(env, authsome_home):
    ctx = Context(env, store=MemoryStore())
    ctx.connections.save(Connection(provider="openai", secrets={"api_key": "k"}))
    # A new process: the index and no vault, and a keychain that must not be asked.
    fresh = Context(env, probe=_refuse_probe)
    assert [r["provider"] for r in rows(fresh)] == ["openai"]
    assert "store_choice" not in vars(fresh)


@pytest.mark.slow
def test_list_repairs_from_the_vault_without_probing(env, authsome_home):
    file_env = {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    Context(file_env).connections.save(Connection(provider="openai", secrets={"api_key": "k"}))
    (authsome_home / "index.json").unlink()
    said = io.StringIO()
    ctx = Context(file_env, probe=_refuse_probe, stderr=said)
    assert [r["provider"] for r in rows(ctx)] == ["openai"]
    assert "repaired the index from the encrypted file" in said.getvalue()
    assert json.loads((authsome_home / "index.json").read_text())["connections"]


def test_unlock_asks_the_store_whether_it_unlocks(env):
    said = io.StringIO()
    ctx = Context(env, store=MemoryStore(), stderr=said)
    assert session.unlock_vault(ctx, "1h", bash) is None
    assert "memory (nothing is kept after this process) needs no unlock" in said.getvalue()


def test_lock_needs_no_store_choice(env):
    said = io.StringIO()
    ctx = Context({**env, "AUTHSOME_BACKEND": "keychain"}, stderr=said)
    assert session.lock_vault(ctx) is False  # the keychain is unusable here: not asked
    assert said.getvalue() == "No unlocked session.\n"


def test_a_damaged_vault_left_behind_does_not_break_list(env, authsome_home):
    from authsome.storage.keychain.probe import ProbeResult

    ctx = Context(env, store=MemoryStore())
    ctx.connections.save(Connection(provider="openai", secrets={"api_key": "k"}))
    (authsome_home / "vault").write_text("not a vault")
    keychain = ProbeResult(True, "Secret Service", "a test keychain", {})
    fresh = Context(env, probe=lambda environ: keychain)
    assert [r["provider"] for r in rows(fresh)] == ["openai"]
    # Where the vault is the store in use, its damage is still an error.
    with pytest.raises(CorruptData, match="damaged"):
        rows(Context({**env, "AUTHSOME_BACKEND": "file"}))
