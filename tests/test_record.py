"""The small value classes that stand in for dataclasses on hot paths."""

import pytest

from authsome.providers.model import ApiKeySpec
from authsome.storage.connections import Connection
from authsome.util.record import Frozen


def test_defaults_are_fresh_per_instance():
    a, b = Connection("x"), Connection("y")
    a.secrets["k"] = "v"
    assert b.secrets == {} and a.connection == "default"


def test_unknown_missing_and_repeated_fields_are_errors():
    with pytest.raises(TypeError):
        Connection("x", provider="y")
    with pytest.raises(TypeError):
        Connection(provider="x", colour="red")
    with pytest.raises(TypeError):
        Connection()


def test_frozen_and_replace():
    spec = ApiKeySpec(env_var="A")
    with pytest.raises(AttributeError):
        spec.env_var = "B"
    assert isinstance(spec, Frozen)
    other = spec.replace(env_var="B")
    assert (spec.env_var, other.env_var, other.header_name) == ("A", "B", "Authorization")
    assert spec == ApiKeySpec(env_var="A") and spec != other


def test_to_dict_round_trip():
    conn = Connection("github", "work", "oauth2", "pkce", {"access_token": "t"}, 5, ["a"])
    assert Connection(**conn.to_dict()) == conn


def test_repr_never_shows_a_secret():
    from authsome.oauth.tokens import TokenSet
    from authsome.services.env import Export
    from authsome.storage.file.sessions import Session

    secret = "s3cr3t-VALUE"
    records = [
        Connection("github", secrets={"access_token": secret, "refresh_token": secret}),
        TokenSet(access_token=secret, refresh_token=secret, id_token=secret),
        Export(values={"GITHUB_TOKEN": secret}),
        Session("0" * 32, f"{'0' * 32}.{secret}", 5),
    ]
    for record in records:
        text = repr(record)
        assert secret not in text and "<redacted>" in text, text
    assert repr(records[0]).startswith("Connection(provider='github', connection='default'")
    assert "refresh_token=None" in repr(TokenSet(access_token=secret))  # absent stays visible
