"""json.loads and json.dumps through the standard library's C accelerator, without `import json`.

The json package compiles its pure-Python fallbacks at import, which imports re, enum and
functools: about a fifth of an `authsome token`. json.loads and json.dumps themselves call the
C scanner and encoder in `_json`, and so does this module, with json's own default settings.
Anything the C side rejects, and any interpreter without it, goes to the json package, so
errors and edge cases are json's. tests/test_jsonfast.py holds both to the same answers.
"""

from __future__ import annotations

_WHITESPACE = " \t\n\r"  # what json.decoder.WHITESPACE skips around a document


class _Defaults:
    """The attributes _json.make_scanner reads: json.JSONDecoder()'s defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # only NaN, Infinity and -Infinity reach it, as float() reads them


def _scanner():
    try:
        import _json

        # _json reads the decoder's settings as attributes, which _Defaults has; the stubs ask
        # for a JSONDecoder
        return _json, _json.make_scanner(_Defaults())  # type: ignore[arg-type]
    except (ImportError, AttributeError, TypeError):
        return None, None


def _unserializable(obj):
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_json, _scan = _scanner()


def loads(doc: str | bytes):
    """json.loads(doc)."""
    text: str | bytes | None = doc
    if isinstance(doc, bytes):
        # json.loads would pick UTF-16 or -32 for bytes that start with a NUL or a BOM; read as
        # UTF-8 those fail the scan below and go to json.loads, as does text that is not UTF-8.
        try:
            text = doc.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if _scan is not None and isinstance(text, str):
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except Exception:  # noqa: BLE001, S110 - json.loads below raises json's own error
            pass
        else:
            if end == len(text) or not text[end:].strip(_WHITESPACE):
                return value
    import json

    return json.loads(doc)


def dumps(obj) -> str:
    """json.dumps(obj), with its default settings."""
    if _json is not None:
        try:
            # json.dumps's arguments, in json.encoder's order: markers (a new dict each time,
            # as json's), default, the string encoder, indent, the separators, sort_keys,
            # skipkeys, allow_nan.
            encode = _json.make_encoder(
                {},
                _unserializable,
                _json.encode_basestring_ascii,
                None,
                ": ",
                ", ",
                False,
                False,
                True,
            )
            return "".join(encode(obj, 0))
        except Exception:  # noqa: BLE001, S110 - json.dumps below raises json's own error
            pass
    import json

    return json.dumps(obj)
