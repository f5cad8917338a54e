"""The flow table (oauth/__init__.py): names, lazy modules, one signature for every flow."""

import subprocess
import sys
from importlib import import_module

import pytest
from memorystore import MemoryStore

from authsome import oauth
from authsome.factory import Context
from authsome.oauth import FLOWS, Flow
from authsome.oauth.request import LoginRequest
from authsome.providers import schema
from authsome.services.login import login
from authsome.storage.connections import Connection


def test_the_flow_names_are_written_once():
    assert tuple(oauth.FLOWS) == schema.FLOWS  # the names providers check, the flows run
    assert list(FLOWS) == ["pkce", "device_code", "api_key", "dcr_pkce"]  # help and error order


@pytest.mark.parametrize("name", list(FLOWS))
def test_every_entry_names_an_obtain_function(name):
    module, _, function = FLOWS[name].target.partition(":")
    assert callable(getattr(import_module(module), function))
    assert FLOWS[name].name == name


def test_the_table_imports_no_flow_until_one_runs():
    code = (
        "import sys, authsome.providers.schema\n"
        "print(sorted(m for m in sys.modules if m.startswith('authsome.oauth.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


seen = []


def fake_obtain(ctx, request):
    """A flow added to the table: one function, one entry."""
    seen.append(request)
    return Connection(
        request.provider.name, request.connection, "api_key", request.flow, {"api_key": "k"}
    )


def test_login_runs_the_flow_from_the_table(env, monkeypatch):
    monkeypatch.setitem(FLOWS, "api_key", Flow("api_key", f"{__name__}:fake_obtain", False))
    ctx = Context(env, store=MemoryStore())
    conn = login(ctx, "openai:work", scopes=["a"], port=9999, open_browser=False)
    [request] = seen
    assert isinstance(request, LoginRequest)
    assert (request.provider.name, request.connection, request.hint) == (
        "openai",
        "work",
        "openai:work",
    )
    assert (request.flow, request.scopes, request.port, request.open_browser) == (
        "api_key",
        ("a",),
        9999,
        False,
    )
    assert ctx.connections.load("openai", "work").secrets == conn.secrets == {"api_key": "k"}


def test_a_request_cannot_change_and_hides_its_secret():
    request = LoginRequest(provider=None, hint="x", flow="pkce", client_secret="s3cret-client")
    with pytest.raises(AttributeError):
        request.client_id = "other"
    assert "s3cret-client" not in repr(request)
