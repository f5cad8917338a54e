"""A request path as the upstream will read it, for request rules (rules.py): pure functions.

A rule's path glob must hold for the resource the server serves, not for the bytes the child
wrote, and servers differ in what they decode (`%2e`, `%2F`), remove (`..`, `;params` before
them, as Tomcat does) or merge (`//`, as nginx does). Where two readings of a path could name
different resources, the path is refused rather than guessed at: any `.` or `..` segment, also
percent-encoded (once or twice) or carrying `;params`; an empty segment; a backslash, which
Windows servers read as `/`; a control character; a malformed escape. What remains means the
same under every reading, and is matched in RFC 3986's normal form (6.2.2): the escapes of
unreserved characters decoded, the others' hex in upper case; `%2F` stays `%2F`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DOTS = (b".", b"..")
_HIDDEN = re.compile(rb"[\x00-\x1f\x7f\\]")
DECODINGS = 3  # `%252e` is `%2e` to a server that decodes twice, `.` to one that does thrice


def _escape(m: re.Match) -> str:
    byte = int(m.group(1), 16)
    return chr(byte) if byte in _UNRESERVED else "%" + m.group(1).upper()


def normal(path: str) -> str:
    """`path` in RFC 3986's normal form: unreserved escapes decoded, the others' hex upper."""
    return _ESCAPE.sub(_escape, path) if "%" in path else path


def problem(path: str) -> str | None:
    """Why `path` (no query) could be read as more than one resource, or None."""
    if not path.startswith("/"):
        return "the request target is not a path (only origin-form and absolute-form are matched)"
    if "\\" in path:
        return "the path has a backslash, which some servers read as '/'"
    if "#" in path:
        return "the request target has a fragment ('#')"
    decoded = path.encode("ascii", "replace")
    if b"%" in decoded:
        if _BAD_ESCAPE.search(path):
            return "the path has a malformed percent-escape"
        for _ in range(DECODINGS):
            decoded = unquote_to_bytes(decoded) if b"%" in decoded else decoded
    if _HIDDEN.search(decoded):
        return "the path has a control character or an encoded backslash"
    if b"/." not in decoded and b"//" not in decoded:
        return None  # no dot segment, no empty one: most paths end here
    segments = decoded.split(b"/")[1:]
    for i, segment in enumerate(segments):
        if segment.split(b";", 1)[0] in _DOTS:
            return "the path has a '.' or '..' segment (perhaps percent-encoded)"
        if not segment and i < len(segments) - 1:
            return "the path has an empty segment ('//'), which some servers merge"
    return None
