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
expansion (values are taken as written); a NUL character is an error (no environment can hold
one); a KEY without '=' sets nothing (python-dotenv's None would hide an earlier KEY=VALUE).

A scanner, not python-dotenv's regular expressions: compiling them would cost `run
--env-file` more than reading the file does. Its `\\s` is str.isspace(), as theirs.

parse(data, path) -> [Entry]; each Entry carries the byte span of its value as written (its
quotes included), so a rewriter can replace that value and leave every other byte alone.
"""

from __future__ import annotations

from authsome.errors import InputError

_SINGLE_ESCAPES = {"\\": "\\", "'": "'"}
_DOUBLE_ESCAPES = {**_SINGLE_ESCAPES, '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
                   "r": "\r", "t": "\t", "v": "\v"}  # fmt: skip
_EOL = "\r\n"
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
        self.text, self.path, self.n = text, path, len(text)
        self.pos = len(BOM) if text.startswith(BOM) else 0
        self._char, self._byte = 0, 0  # the last offset turned into bytes, for the next one

    def entries(self) -> list[Entry]:
        found = []
        nul = self.text.find("\0")
        if nul >= 0:
            raise self.error(nul, "holds a NUL character, which no environment can hold")
        while True:
            self.skip_blanks(newlines=True)
            if self.pos >= self.n:
                return found
            entry = self.statement()
            if entry is not None:
                found.append(entry)

    def statement(self) -> Entry | None:
        start, text = self.pos, self.text
        exported = text.startswith("export", start) and self.blank_at(start + 6)
        if exported:
            self.pos += 6
            self.skip_blanks()
        key = self.key()
        self.skip_blanks()
        entry = None
        if key is not None and text.startswith("=", self.pos):
            self.pos += 1
            blank = self.blank_at(self.pos)
            self.skip_blanks()
            begin = self.pos
            if blank and text.startswith("#", self.pos):
                value, quote = "", ""  # KEY= # comment: empty (KEY=#x: the value is #x)
            else:
                value, quote = self.value(key, start)
            span = (self.byte(begin), self.byte(self.pos))
            entry = Entry(self.path, self.line(start), key, value, span, quote, exported)
        self.skip_blanks()
        if text.startswith("#", self.pos):  # a comment, to the end of the line
            self.pos = self.line_end()
        if not self.end_of_line():
            if entry is None:  # KEY, then something other than '='
                raise self.error(start, f"unexpected text after {key}", "write it as KEY=VALUE")
            raise self.error(
                start,
                f"unexpected text after the value of {key}",
                "quote the whole value, or put a blank before a # comment",
            )
        return entry

    def key(self) -> str | None:
        text, pos = self.text, self.pos
        if text.startswith("#", pos):
            return None
        if text.startswith("'", pos):
            end = text.find("'", pos + 1)
            if end > pos + 1:
                self.pos = end + 1
                return text[pos + 1 : end]
        else:
            end = pos
            while end < self.n and text[end] not in "=#" and not text[end].isspace():
                end += 1
            if end > pos:
                self.pos = end
                return text[pos:end]
        raise self.error(pos, "expected KEY=VALUE", "fix the line, or comment it out")

    def value(self, key: str, start: int) -> tuple[str, str]:
        """(the decoded value, its quote), the position moved past it."""
        text, pos = self.text, self.pos
        quote = text[pos : pos + 1]
        if quote not in ("'", '"'):
            raw = text[pos : self.line_end()]
            cut = next(
                (i for i in range(1, len(raw)) if raw[i] == "#" and raw[i - 1].isspace()), None
            )
            value = raw[:cut].rstrip()
            self.pos += len(value)
            return value, ""
        escapes = _SINGLE_ESCAPES if quote == "'" else _DOUBLE_ESCAPES
        parts, i = [], pos + 1
        while i < self.n and text[i] != quote:
            if text[i] == "\\" and i + 1 < self.n:  # a backslash escapes any next character
                pair = text[i + 1]
                parts.append(escapes.get(pair, "\\" + pair) if pair != quote else quote)
                i += 2
            elif text[i] == "\\":
                break  # the file ends after a backslash: never closed
            else:
                parts.append(text[i])
                i += 1
        if i >= self.n or text[i] != quote:
            kind = "single" if quote == "'" else "double"
            what = f"the {kind}-quoted value of {key} is never closed"
            raise self.error(start, what, f"end it with {quote}")
        self.pos = i + 1
        return "".join(parts), quote

    def blank_at(self, pos: int) -> bool:
        return pos < self.n and self.text[pos].isspace() and self.text[pos] not in _EOL

    def skip_blanks(self, newlines: bool = False) -> None:
        text, pos = self.text, self.pos
        while pos < self.n and text[pos].isspace() and (newlines or text[pos] not in _EOL):
            pos += 1
        self.pos = pos

    def line_end(self) -> int:
        """Where the current line's text ends (its \\r, \\n or the end of the file)."""
        ends = [
            i for i in (self.text.find("\r", self.pos), self.text.find("\n", self.pos)) if i >= 0
        ]
        return min(ends, default=self.n)

    def end_of_line(self) -> bool:
        """Move past the line break here (or stay at the end of the file); False if neither."""
        text, pos = self.text, self.pos
        if pos >= self.n:
            return True
        if text.startswith("\r\n", pos):
            self.pos += 2
        elif text[pos] in _EOL:
            self.pos += 1
        else:
            return False
        return True

    def line(self, pos: int) -> int:
        count = self.text.count
        return count("\n", 0, pos) + count("\r", 0, pos) - count("\r\n", 0, pos) + 1

    def byte(self, pos: int) -> int:
        """`pos` (a character offset, never below the last one asked) as a byte offset."""
        self._byte += len(self.text[self._char : pos].encode("utf-8"))
        self._char = pos
        return self._byte

    def error(self, pos: int, what: str, fix: str = "fix the line") -> InputError:
        return InputError(f"{self.path}:{self.line(pos)}: {what.rstrip()}", fix)
