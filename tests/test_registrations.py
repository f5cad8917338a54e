"""Dynamically registered clients through their repository (storage/registrations.py)."""

import json

import pytest
from memorystore import MemoryStore

from authsome.factory import Context
from authsome.oauth import dcr
from authsome.storage.registrations import Registration

# What authsome wrote before the repository existed: its readers must still find it.
EARLIER = {
    "client_id": "c-123",
    "redirect_port": 8765,
    "client_secret": "client-secret-xyz",
    "registration_access_token": "rat-xyz",
    "registration_client_uri": "https://id.example/register/c-123",
}


@pytest.fixture
def ctx(env):
    return Context(env, store=MemoryStore())


def test_a_registration_stored_by_earlier_versions_is_found(ctx):
    ctx.store_choice.store.set("dyn:@client", json.dumps(EARLIER))
    assert ctx.registrations.get("dyn") == Registration(**EARLIER)
    assert ctx.registrations.get("dyn", device=True) is None


def test_the_stored_format_is_unchanged(ctx):
    ctx.registrations.put("dyn", Registration(**EARLIER))
    ctx.registrations.put("dyn", Registration(client_id="d-1"), device=True)
    store = ctx.store_choice.store
    assert sorted(store.list()) == ["dyn:@client", "dyn:@device-client"]
    assert list(json.loads(store.get("dyn:@client")).items()) == list(EARLIER.items())
    assert json.loads(store.get("dyn:@device-client")) == {"client_id": "d-1"}


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "{}", '{"client_id": ""}'])
def test_an_unreadable_registration_counts_as_none(ctx, raw):
    ctx.store_choice.store.set("dyn:@client", raw)
    assert ctx.registrations.get("dyn") is None


def test_registrations_are_not_logins(ctx):
    ctx.registrations.put("dyn", Registration(**EARLIER))
    assert ctx.connections.login_keys() == []


def test_repr_hides_the_client_secrets():
    shown = repr(Registration(**EARLIER))
    assert "client-secret-xyz" not in shown and "rat-xyz" not in shown
    assert "c-123" in shown


class Provider:
    """Just what dcr.client reads of a provider."""

    name = "dyn"
    display_name = "Dyn"
    env_prefix = "DYN"

    class oauth:  # noqa: N801 - stands in for the OAuthSpec attribute
        registration_url = "https://id.example/register"
        redirect_port = None
        scopes = ("openid",)


class FakeHttp:
    def __init__(self):
        self.posted = []

    def post_json(self, url, payload):
        self.posted.append(payload)
        return 201, {"client_id": f"new-{len(self.posted)}", "client_secret": ""}


def test_dcr_reuses_a_stored_client_for_its_port_and_registers_for_another(env):
    http = FakeHttp()
    ctx = Context(env, store=MemoryStore(), http=http)
    ctx.store_choice.store.set("dyn:@client", json.dumps(EARLIER))
    assert dcr.client(ctx, Provider, "dyn", port=8765).client_id == "c-123"
    assert dcr.client(ctx, Provider, "dyn").client_id == "c-123"  # any port will do
    assert http.posted == []
    fresh = dcr.client(ctx, Provider, "dyn", port=9000)
    assert fresh == Registration(client_id="new-1", redirect_port=9000)
    assert http.posted[0]["redirect_uris"] == ["http://127.0.0.1:9000/callback"]
    assert ctx.registrations.get("dyn") == fresh
    device = dcr.client(ctx, Provider, "dyn", device=True)
    assert device == Registration(client_id="new-2")
    assert http.posted[1]["grant_types"][0] == "urn:ietf:params:oauth:grant-type:device_code"
