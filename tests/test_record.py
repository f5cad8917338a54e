"""The small value classes that stand in for dataclasses on hot paths."""

import pytest

from authsome.connections import Connection
from authsome.providers import ApiKeySpec
from authsome.record import Frozen


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
