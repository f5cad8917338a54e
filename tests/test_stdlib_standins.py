"""The hot path's stand-ins for the standard library give its answers: util/jsonfast is json.loads
and json.dumps, errors included, without importing json; util/lazy is cached_property."""

import json
import subprocess
import sys
from functools import cached_property

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authsome.util import jsonfast

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from([float("inf"), float("-inf"), 10**40, -0.0, 1e-300, "\u2028", "\ud800"])
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30
)


def _outcome(fn, arg):
    try:
        return ("ok", fn(arg))
    except Exception as e:  # noqa: BLE001 - the kind and the message are what is compared
        return (type(e), str(e))


@pytest.mark.slow
@settings(max_examples=400)
@given(values)
def test_dumps_is_json_dumps(value):
    assert jsonfast.dumps(value) == json.dumps(value)


@pytest.mark.slow
@settings(max_examples=400)
@given(values, st.sampled_from([None, 1, "\t"]), st.sampled_from(["", " ", "\n", " \r\n\t"]))
def test_loads_reads_what_json_reads(value, indent, pad):
    text = pad + json.dumps(value, indent=indent) + pad
    assert repr(jsonfast.loads(text)) == repr(json.loads(text))


@settings(max_examples=600)
@given(
    st.text(alphabet='{}[]":,0123456789.eE+-tfalsenuIiNy \t\n\r\\u\x00x', max_size=30)
    | st.text(max_size=30)
)
def test_any_text_gets_jsons_answer_or_jsons_error(text):
    assert repr(_outcome(jsonfast.loads, text)) == repr(_outcome(json.loads, text))


def test_what_json_cannot_write_fails_as_json_fails():
    for bad in ({1j: 1}, {"a": object()}, {"a": {1, 2}}, b"bytes"):
        assert repr(_outcome(jsonfast.dumps, bad)) == repr(_outcome(json.dumps, bad))
    loop: list = []
    loop.append(loop)
    assert _outcome(jsonfast.dumps, loop) == _outcome(json.dumps, loop)


def test_valid_documents_never_import_json():
    """The point of the module: a record read and an audit line written without json, re, enum."""
    code = (
        "import sys\nfrom authsome.util import jsonfast\n"
        'doc = jsonfast.loads(\' {"a": [1, 2.5, null, true, "\\\\u00e9"]}\\n\')\n'
        'assert jsonfast.dumps(doc) == \'{"a": [1, 2.5, null, true, "\\\\u00e9"]}\'\n'
        "print(sorted(m for m in ('json', 're', 'enum') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@settings(max_examples=400)
@given(
    values.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    | st.binary(max_size=20)
    | values.map(lambda v: json.dumps(v).encode("utf-16"))
    | values.map(lambda v: b"\xef\xbb\xbf" + json.dumps(v).encode())
)
def test_bytes_get_jsons_answer_whatever_their_encoding(raw):
    assert repr(_outcome(jsonfast.loads, raw)) == repr(_outcome(json.loads, raw))


def _lazy():
    from authsome.util.lazy import lazy

    return lazy


@pytest.mark.parametrize("decorator", [cached_property, _lazy()])
def test_lazy_is_cached_property(decorator):
    """util/lazy stands in for functools.cached_property on the hot path: same behaviour."""
    calls = []

    class Thing:
        @decorator
        def part(self):
            """The part."""
            calls.append(1)
            return len(calls)

    thing = Thing()
    assert (thing.part, thing.part, len(calls)) == (1, 1, 1)
    del thing.part  # forgotten: made again on the next read
    assert (thing.part, len(calls)) == (2, 2)
    thing.part = 9  # set by hand (tests do): kept
    assert thing.part == 9
    assert Thing.part.__doc__ == "The part."
