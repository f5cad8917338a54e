"""The dotenv parser (authsome.formats.dotenvparse) against python-dotenv on a shared table, the
byte spans a rewriter relies on, and `authsome://` references (authsome.services.references)."""

import io

import pytest
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from dotenv_cases import AGREED, DIFFERENCES, ERRORS
from hypothesis import given, settings
from hypothesis import strategies as st

from authsome.errors import InputError
from authsome.formats.dotenvparse import parse
from authsome.services import references


def _ours(text: str) -> dict:
    return {e.key: e.value for e in parse(text.encode("utf-8"), ".env")}


@pytest.mark.parametrize(("text", "expected"), AGREED)
def test_the_grammar_table_agrees_with_python_dotenv(text, expected):
    theirs = dotenv_values(stream=io.StringIO(text), interpolate=False)
    assert {k: v for k, v in theirs.items() if v is not None} == expected
    assert _ours(text) == expected


def _loaded(text: str) -> dict:
    """What python-dotenv's load_dotenv would set (it skips None)."""
    theirs = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {k: v for k, v in theirs.items() if v is not None}


@pytest.mark.parametrize(("text", "ours", "theirs"), DIFFERENCES)
def test_the_deliberate_differences_from_python_dotenv(text, ours, theirs):
    assert _ours(text) == ours
    assert _loaded(text) == theirs


# Pieces that make every corner of the grammar: quotes, escapes, comments, line breaks,
# `export`, blanks python-dotenv counts as whitespace (\x0b, U+2028), and non-ASCII.
PIECES = ["A", "B", "x", "=", "'", '"', "\\", "#", " ", "\t", "\n", "\r", "\r\n", "export "]
PIECES += ["n", "$", "{", "}", "é", "\u2028", "\x0b", "\\n", "\\'", '\\"']


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16).map("".join))
def test_the_parser_agrees_with_python_dotenv_on_any_mix_of_its_pieces(text):
    """Where python-dotenv fails a line, authsome fails; elsewhere both read the same."""
    bindings = list(parse_stream(io.StringIO(text)))
    if any(b.key is not None and b.value is None for b in bindings):
        return  # a KEY without '=': a deliberate difference (DIFFERENCES)
    if any(b.error for b in bindings):
        with pytest.raises(InputError):
            parse(text.encode(), ".env")
    else:
        assert _ours(text) == dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


@pytest.mark.parametrize(("text", "line"), ERRORS)
def test_what_python_dotenv_skips_is_an_error_naming_file_and_line(text, line):
    assert any(b.error for b in parse_stream(io.StringIO(text)))  # it warns and skips
    with pytest.raises(InputError, match=rf"^\.env:{line}: "):
        parse(text.encode(), ".env")


def test_errors_never_show_the_value():
    with pytest.raises(InputError) as e:
        parse(b"A=1\nKEY='sk-secret-value\n", ".env")
    assert "sk-secret" not in str(e.value) and "KEY" in str(e.value)


def test_spans_cover_each_value_as_written_in_bytes():
    text = "\ufeff# é comment\nexport A='é x'  # c\r\nB=\"multi\nline ✓\"\nC=plain #c\nD=\nE= # c\n"
    data = text.encode()
    entries = parse(data, ".env")
    raw = {e.key: data[e.span[0] : e.span[1]].decode() for e in entries}
    assert raw == {"A": "'é x'", "B": '"multi\nline ✓"', "C": "plain", "D": "", "E": ""}
    assert [(e.key, e.line, e.quote, e.exported) for e in entries] == [
        ("A", 2, "'", True),
        ("B", 3, '"', False),
        ("C", 5, "", False),
        ("D", 6, "", False),
        ("E", 7, "", False),
    ]


def test_replacing_a_span_changes_that_value_only():
    data = b"# keep\nA=sk-plain-key-123 # note\nB='x'\n"
    a = parse(data)[0]
    ref = b"authsome://openai/api_key"
    out = data[: a.span[0]] + ref + data[a.span[1] :]
    assert out == b"# keep\nA=authsome://openai/api_key # note\nB='x'\n"
    assert _ours(out.decode()) == {"A": ref.decode(), "B": "x"}


def test_nul_and_non_utf8_are_errors():
    with pytest.raises(InputError, match=r"^\.env:2: holds a NUL"):
        parse(b"A=1\nB=\0\n", ".env")
    with pytest.raises(InputError, match=r"^\.env:3: not UTF-8"):
        parse(b"A=1\n\nB=\xff\n", ".env")


@pytest.mark.parametrize(
    ("text", "provider", "connection", "field"),
    [
        ("authsome://openai/api_key", "openai", "default", "api_key"),
        ("authsome://github:work/access_token", "github", "work", "access_token"),
        ("authsome://google:me.x_1/id_token", "google", "me.x_1", "id_token"),
    ],
)
def test_references_parse(text, provider, connection, field):
    ref = references.parse(text)
    assert (ref.provider, ref.connection, ref.field) == (provider, connection, field)
    assert str(ref) == text
    assert references.format_ref(provider, connection, field) == text


@pytest.mark.parametrize(
    "text",
    [
        "authsome://",
        "authsome:/openai/api_key",
        "authsome:openai/api_key",
        "authsome://openai",
        "authsome://openai/",
        "authsome://openai/api_key/x",
        "authsome://openai/refresh_token",
        "authsome://openai/client_secret",
        "authsome://OpenAI/api_key",
        "authsome://openai:/api_key",
        "authsome://openai:Work/api_key",
        "authsome://user@evil.example:443/api_key",
        "authsome://openai/api_key?x=1",
        "authsome:// openai/api_key",
        "authsome://sk-abcdefghijklmnopqrstuv/api_key ",
    ],
)
def test_malformed_references_are_one_line_errors(text):
    with pytest.raises(InputError) as e:
        references.parse(text)
    assert "\n" not in str(e.value) and "sk-abc" not in str(e.value)
    assert "evil" not in str(e.value)
