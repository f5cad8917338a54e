"""`authsome inject`'s templates: any text with `{{ authsome://... }}` fields in it.

A field is `{{`, optional blanks, a reference, optional blanks, `}}`. Text between `{{` and `}}`
that does not start with `authsome:` is not a field and is left as it is (Helm, Jinja and
mustache templates use the same braces); a `{{` never closed is an error naming the line.
"""

from __future__ import annotations

from authsome.errors import InputError

OPEN, CLOSE = "{{", "}}"
MARK = "authsome:"  # a field's start; authsome:/x (a typo) is then a malformed reference


def decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 text", "save the file as UTF-8") from None


def fields(text: str, path: str) -> list[tuple[int, int, int, str]]:
    """(line, start, end, reference text) for each field, in order; [start, end) covers its
    braces."""
    found = []
    pos = text.find(OPEN)
    while pos >= 0:
        end = text.find(CLOSE, pos + len(OPEN))
        if end < 0:
            line = text.count("\n", 0, pos) + 1
            raise InputError(f"{path}:{line}: a {OPEN} is never closed", f"close it with {CLOSE}")
        inner = text[pos + len(OPEN) : end].strip()
        if inner.startswith(MARK):
            found.append((text.count("\n", 0, pos) + 1, pos, end + len(CLOSE), inner))
        pos = text.find(OPEN, end + len(CLOSE))
    return found


def render(text: str, found, values: list[str]) -> str:
    """`text` with each of `found`'s fields replaced by the value at the same index."""
    parts, last = [], 0
    for (_line, start, end, _ref), value in zip(found, values, strict=True):
        parts += [text[last:start], value]
        last = end
    parts.append(text[last:])
    return "".join(parts)
