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


def _declared_records():
    """(class name, __slots__, _defaults' keys, the typed declarations) of each Record and
    Frozen subclass in the package, read from its source."""
    import ast
    from pathlib import Path

    for path in sorted((Path(__file__).parent.parent / "authsome").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef) or not {
                getattr(b, "id", None) for b in node.bases
            } & {"Record", "Frozen"}:
                continue
            assigned = {
                s.targets[0].id: s.value
                for s in node.body
                if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            }
            blocks = [
                s.body
                for s in node.body
                if isinstance(s, ast.If) and getattr(s.test, "id", None) == "TYPE_CHECKING"
            ]
            declared = [
                (s.target.id, getattr(s.value, "id", None))
                for s in (blocks[0] if blocks else [])
                if isinstance(s, ast.AnnAssign) and ast.unparse(s.annotation) != "KW_ONLY"
            ]
            defaults = assigned.get("_defaults", ast.Dict(keys=[]))
            yield (
                node.name,
                [e.value for e in assigned["__slots__"].elts],
                {k.value for k in defaults.keys},
                declared,
            )


def test_the_type_checkers_view_of_each_record_matches_its_slots():
    """The fields a record declares for the type checker (util/record.py) are its __slots__ in
    order, and those marked `= DEFAULT` are the ones `_defaults` fills in."""
    records = list(_declared_records())
    assert len(records) >= 20
    for name, slots, defaults, declared in records:
        assert [n for n, _ in declared] == slots, name
        assert {n for n, value in declared if value == "DEFAULT"} == defaults, name
