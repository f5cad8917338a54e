"""Request rules for `run --proxy`: which requests to an intercepted host may carry a credential.

A rule is `METHODS HOST[:PORT]/PATH` (docs/agents.md has the grammar): METHODS is `*` or a
comma-separated list of methods; HOST a host pattern as in a provider's `hosts` (a leading `*.`,
no port means 443); PATH starts with `/`, and its `*` matches any run of characters, `/`
included. The query string is never matched: rules name resources, and a query's order and
encoding vary by client, so a rule on it would give a false sense of control. The path is read
as the upstream reads it (paths.py). Pure and quick: the proxy asks for every request.
"""

from __future__ import annotations

import re

from authsome.providers.hosts import host_problem, overlap, rank
from authsome.proxy import paths

ANY = "*"
READ_ONLY = ("GET", "HEAD", "OPTIONS")
# Asked of the server to treat the request as another method (Rack, Symfony, Google's APIs)
# or another path (X-Original-URL and X-Rewrite-URL: IIS's URL Rewrite, older Symfony): each
# must be allowed as if it were the request line.
OVERRIDES = (b"x-http-method-override", b"x-http-method", b"x-method-override")
REWRITES = (b"x-original-url", b"x-rewrite-url")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_NOT_IN_PATH = "?#\\[]"
NO_RULE = "no rule allows it"


class BadRule(ValueError):
    """A rule that cannot be read: what is wrong, and how to write it."""

    def __init__(self, what: str, fix: str):
        super().__init__(what)
        self.what, self.fix = what, fix
        self.line: int | None = None  # set by parse_lines, for the policy file's error


class Rule:
    """One parsed rule; `methods` None means any method."""

    __slots__ = ("host", "methods", "path", "pattern")

    def __init__(self, methods: frozenset[str] | None, host: str, path: str):
        self.methods, self.host, self.path = methods, host, path
        self.pattern = ".*".join(re.escape(part) for part in path.split("*"))

    def __repr__(self) -> str:
        methods = ANY if self.methods is None else ",".join(sorted(self.methods))
        return f"{methods} {self.host}{self.path}"

    def covers(self, host: str, port: int) -> bool:
        return rank(self.host, host, port) is not None

    def takes(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def parse(text: str) -> Rule:
    """The rule `text` says; BadRule when it says none."""
    fields = text.split()
    if len(fields) != 2:
        raise BadRule(
            "a rule is a method and a HOST/PATH, separated by a space",
            "write for example: GET api.github.com/repos/acme/*",
        )
    methods, target = fields
    host, slash, path = target.partition("/")
    return Rule(_methods(methods), _host(host.lower(), bool(slash)), _path(slash + path))


def _methods(text: str) -> frozenset[str] | None:
    if text == ANY:
        return None
    names = text.upper().split(",")
    for name in names:
        if name == ANY or not _TOKEN.fullmatch(name):
            raise BadRule(
                f"{text[:20]!r} is not a method or a list of methods",
                "write one such as GET, a comma-separated list such as GET,HEAD, or * for any",
            )
    return frozenset(names)


def _host(host: str, has_path: bool) -> str:
    if not has_path:
        raise BadRule("the rule has no path", "write HOST/* for every path on a host")
    problem = host_problem(host) if host else "which is empty"
    if problem:
        raise BadRule(f"the host {host[:80]!r} is not valid: {problem}",
                      "write a host such as api.github.com or *.example.com:8443")  # fmt: skip
    return host


def _path(path: str) -> str:
    bad = next((c for c in path if c in _NOT_IN_PATH or not " " < c < "\x7f"), None)
    if bad is not None:
        raise BadRule(
            f"the path has {bad!r}, which a rule's path may not hold",
            "the query string is not matched; '*' is the only wildcard; percent-encode the rest",
        )
    problem = paths.problem(path.replace("*", "x"))
    if problem:
        raise BadRule(problem, "write the path as the server serves it")
    return paths.normal(path)


def read_only(hosts) -> list[Rule]:
    """`--read-only`: GET, HEAD and OPTIONS at any path on each of `hosts`."""
    return [Rule(frozenset(READ_ONLY), host, "/*") for host in hosts]


def parse_lines(text: str) -> list[Rule]:
    """The rules of a policy file: one a line; a `#` starts a comment; blank lines are skipped.
    BadRule carries `.line`, the 1-based number of the line at fault."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            found.append(parse(line))
        except BadRule as e:
            e.line = number
            raise
    return found


def uncovered(rules, patterns) -> list[str]:
    """The hosts of `rules` that no pattern in `patterns` (the intercepted hosts) can match."""
    return [r.host for r in rules if not any(overlap(r.host, p) for p in patterns)]


class Rules:
    """The rules in force for one run; `denial` is asked once for every intercepted request."""

    MAX_CACHED = 256  # (host, port, method) keys: a child could invent methods without end

    def __init__(self, rules):
        self.rules = tuple(rules)
        self._matchers: dict[tuple[str, int, str], object] = {}

    def _matcher(self, host: str, port: int, method: str):
        """One compiled pattern for every rule that lets `method` through at host:port."""
        key = (host, port, method)
        found = self._matchers.get(key)
        if found is None:
            paths_ = [r.pattern for r in self.rules if r.covers(host, port) and r.takes(method)]
            joined = "|".join(f"(?:{p})" for p in paths_) or "(?!)"
            found = re.compile(joined, re.DOTALL).fullmatch
            if len(self._matchers) < self.MAX_CACHED:
                self._matchers[key] = found
        return found

    def denial(self, method: bytes, target: bytes, authority: tuple[str, int], headers=()):
        """Why the request must not go upstream, in a few words; None when a rule allows it.
        `target`: origin-form; `authority`: the CONNECT's (host, port); `headers`: h11's."""
        wanted = method.decode("ascii", "replace")
        why = self._check(wanted, target, authority)
        for key, value in headers:
            if why is not None:
                return why
            if key in OVERRIDES:
                other = value.decode("ascii", "replace").strip().upper()[:20]
                why = self._check(other, target, authority)
                asks = other
            elif key in REWRITES:
                why = self._check(wanted, value.strip(), authority)
                asks = "another path"
            if why is not None:
                why = f"its {key.decode()} header asks for {asks}, and {why}"
        return why

    def _check(self, method: str, target: bytes, authority: tuple[str, int]) -> str | None:
        path = target.decode("ascii", "replace").split("?", 1)[0]
        problem = paths.problem(path)
        if problem is not None:
            return problem
        return NO_RULE if self._matcher(*authority, method)(paths.normal(path)) is None else None
