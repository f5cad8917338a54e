"""Reading dotenv files: python-dotenv's grammar, with an error where it would skip a line.

    file      := statement*            (blank lines and whitespace between statements skipped)
    statement := ['export' WS] KEY [WS] ['=' [WS] VALUE] [WS] ['#' comment] EOL
               | '#' comment EOL
    KEY       := 'single-quoted' | one or more characters other than '=', '#' and whitespace
    VALUE     := 'single'   literal but for \\\\ and \\'; may span lines
               | "double"   \\\\ \\' \\" \\a \\b \\f \\n \\r \\t \\v decoded, any other
                            backslash kept; may span lines
               | unquoted   to the end of the line, less a comment (blanks then '#') and
                            trailing blanks; after '=' and a blank, '#' starts a comment
    EOL       := \\n | \\r\\n | \\r | end of file

Deliberate differences from python-dotenv, which docs/env-files.md lists too: a statement it
cannot parse is an error naming the file and line (python-dotenv warns and skips it); no ${VAR}
expansion (values are taken as written); a UTF-8 byte order mark at the start is skipped; a
NUL character is an error (no environment can hold one). A KEY without '=' sets nothing, as
with python-dotenv's load_dotenv.

parse(data, path) -> [Entry]; each Entry carries the byte span of its value as written (its
quotes included), so a rewriter can replace that value and leave every other byte alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from authsome.errors import InputError

_BLANKS = re.compile(r"\s*")
_WS = re.compile(r"[^\S\r\n]*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_QUOTED_KEY = re.compile(r"'([^']+)'")
_KEY = re.compile(r"[^=#\s]+")
_EQUALS = re.compile(r"=[^\S\r\n]*")
_SINGLE = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)
_DOUBLE = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_UNQUOTED = re.compile(r"[^\r\n]*")
_UNQUOTED_COMMENT = re.compile(r"\s+#")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_EOL = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_DOUBLE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_SINGLE_ESCAPES = re.compile(r"\\[\\']")
_DECODED = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
BOM = "\ufeff"


class Entry:
    """One KEY=VALUE: `line` is the key's (1-based); `span` the value's (start, end) byte
    offsets in the file, its quotes included; `quote` is "'", '"' or '' (unquoted)."""

    __slots__ = ("path", "line", "key", "value", "span", "quote", "exported")

    def __init__(self, path, line, key, value, span, quote, exported):
        self.path, self.line, self.key, self.value = path, line, key, value
        self.span, self.quote, self.exported = span, quote, exported

    def __repr__(self) -> str:  # never the value: it may be a secret
        return f"Entry({self.path}:{self.line} {self.key})"


def read(path: str) -> list[Entry]:
    """The entries of the dotenv file at `path`."""
    from authsome.errors import UsageError

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        why = (e.strerror or type(e).__name__).lower()
        raise UsageError(f"cannot read env file {path}: {why}", "check the path") from None
    return parse(data, path)


def parse(data: bytes, path: str = "-") -> list[Entry]:
    """The entries of dotenv `data`, in order (a key may repeat: the last one counts)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 text", "save the file as UTF-8") from None
    return _Parser(text, path).entries()


class _Parser:
    def __init__(self, text: str, path: str):
        self.text, self.path = text, path
        self.pos = len(BOM) if text.startswith(BOM) else 0
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        self._char, self._byte = 0, 0  # the last offset turned into bytes, for the next one

    def entries(self) -> list[Entry]:
        found = []
        nul = self.text.find("\0")
        if nul >= 0:
            raise self.error(nul, "holds a NUL character, which no environment can hold")
        while True:
            self.pos = _BLANKS.match(self.text, self.pos).end()
            if self.pos >= len(self.text):
                return found
            entry = self.statement()
            if entry is not None:
                found.append(entry)

    def statement(self) -> Entry | None:
        start = self.pos
        exported = bool(self.take(_EXPORT))
        key = self.key()
        self.take(_WS)
        entry = None
        if key is not None and self.text.startswith("=", self.pos):
            blank = len(self.take(_EQUALS)) > 1
            begin = self.pos
            if blank and self.text.startswith("#", self.pos):
                value, quote = "", ""  # KEY= # comment: empty (KEY=#x: the value is #x)
            else:
                value, quote = self.value(key, start)
            span = (self.byte(begin), self.byte(self.pos))
            entry = Entry(self.path, self.line(start), key, value, span, quote, exported)
        self.take(_COMMENT)
        end = _EOL.match(self.text, self.pos)
        if end is None:
            if entry is None:  # KEY, then something other than '='
                raise self.error(start, f"unexpected text after {key}", "write it as KEY=VALUE")
            raise self.error(
                start,
                f"unexpected text after the value of {key}",
                "quote the whole value, or put a blank before a # comment",
            )
        self.pos = end.end()
        return entry

    def key(self) -> str | None:
        if self.text.startswith("#", self.pos):
            return None
        if self.text.startswith("'", self.pos):
            m = _QUOTED_KEY.match(self.text, self.pos)
        else:
            m = _KEY.match(self.text, self.pos)
        if m is None:
            raise self.error(self.pos, "expected KEY=VALUE", "fix the line, or comment it out")
        self.pos = m.end()
        return m.group(1) if m.re is _QUOTED_KEY else m.group(0)

    def value(self, key: str, start: int) -> tuple[str, str]:
        """(the decoded value, its quote), the position moved past it."""
        quote = self.text[self.pos : self.pos + 1]
        if quote in ("'", '"'):
            m = (_SINGLE if quote == "'" else _DOUBLE).match(self.text, self.pos)
            if m is None:
                kind = "single" if quote == "'" else "double"
                what = f"the {kind}-quoted value of {key} is never closed"
                raise self.error(start, what, f"end it with {quote}")
            self.pos = m.end()
            if quote == "'":
                return _SINGLE_ESCAPES.sub(lambda e: e.group(0)[1], m.group(1)), quote
            return _DOUBLE_ESCAPES.sub(_decode, m.group(1)), quote
        raw = _UNQUOTED.match(self.text, self.pos).group(0)
        cut = _UNQUOTED_COMMENT.search(raw)
        value = (raw[: cut.start()] if cut else raw).rstrip()
        self.pos += len(value)
        return value, ""

    def take(self, pattern) -> str:
        """What `pattern` (one that may match nothing) matches here; the position moved past."""
        m = pattern.match(self.text, self.pos)
        self.pos = m.end()
        return m.group(0)

    def line(self, pos: int) -> int:
        return bisect_right(self.starts, pos)

    def byte(self, pos: int) -> int:
        """`pos` (a character offset, never below the last one asked) as a byte offset."""
        self._byte += len(self.text[self._char : pos].encode("utf-8"))
        self._char = pos
        return self._byte

    def error(self, pos: int, what: str, fix: str = "fix the line") -> InputError:
        return InputError(f"{self.path}:{self.line(pos)}: {what.rstrip()}", fix)


def _decode(match) -> str:
    char = match.group(0)[1]
    return _DECODED.get(char, char)
