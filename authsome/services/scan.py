"""`authsome scan`: plaintext credentials in a project's env files and in the environment.

A value is a finding when its variable is one a provider names (`api_key.env_var`, a variable
in `export.env`) or when it matches a bundled provider's `key_pattern`. References
(authsome://) and empty values are not. Each finding is compared with the stored connection
it would be: not stored, stored and equal, stored and different. Nothing here prints a value.
"""

from __future__ import annotations

import contextlib
import os
import re

from authsome.errors import AuthsomeError

# The env files the frameworks load (Next.js, Vite, Create React App, dotenv-flow), in order.
NAMED: tuple[str, ...] = (".env", ".env.local")
NAMED += tuple(f".env.{mode}{local}" for mode in ("development", "test", "production", "prod")
               for local in ("", ".local"))  # fmt: skip
# `.env.*` files that hold examples for people to copy, not a project's values.
TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults")
ENVIRONMENT = "(environment)"
NOT_STORED, EQUAL, DIFFERENT = "not stored", "stored, equal", "stored, different"
UNKNOWN = "unknown"


class Finding:
    """One plaintext credential: where, which variable, which provider, its state."""

    __slots__ = ("path", "line", "key", "provider", "value", "entry", "state", "why")

    def __init__(self, path: str, line: int | None, key: str, provider: str, value: str, entry):
        self.path, self.line, self.key, self.provider = path, line, key, provider
        self.value, self.entry = value, entry  # entry: the dotenv Entry (its span), or None
        self.state, self.why = NOT_STORED, ""  # why: what --import did, or why it did not

    def row(self) -> dict:
        """What is shown of it (never the value)."""
        return {"file": self.path, "line": self.line, "variable": self.key,
                "provider": self.provider, "state": self.state}  # fmt: skip

    def __repr__(self) -> str:
        return f"Finding({self.path}:{self.line} {self.key} {self.provider})"


def env_files(paths) -> list[str]:
    """The env files among `paths` (files, or folders whose env files are taken)."""
    found = []
    for path in paths or ["."]:
        if not os.path.isdir(path):
            found.append(path)  # a missing one is the reader's one-line error
            continue
        names = set(os.listdir(path))
        extra = sorted(n for n in names if n.startswith(".env.") and not n.endswith(TEMPLATES))
        for name in dict.fromkeys([*NAMED, *extra]):
            full = os.path.join(path, name)
            if name in names and os.path.isfile(full):
                found.append(os.path.normpath(full))
    return found


class Matcher:
    """Which provider a variable or a value belongs to, from the providers' files."""

    def __init__(self, registry):
        self.by_name: dict[str, str] = {}
        self.patterns: list[tuple[str, re.Pattern]] = []
        for name in registry.names():
            with contextlib.suppress(AuthsomeError):  # a broken file names nothing
                self._add(registry.get(name))

    def _add(self, provider) -> None:
        spec = provider.api_key
        for var in [*provider.export_env.values(), spec.env_var if spec else None]:
            if var:
                self.by_name.setdefault(var, provider.name)
        if spec and spec.key_pattern:
            self.patterns.append((provider.name, re.compile(spec.key_pattern)))
            # The most specific pattern first: sk-ant- and sk-or- before sk-.
            self.patterns.sort(key=lambda p: -_literal_prefix(p[1].pattern))

    def provider_of(self, key: str, value: str) -> str | None:
        if not value or value.startswith("authsome://"):
            return None
        if key in self.by_name:
            return self.by_name[key]
        for name, pattern in self.patterns:
            if pattern.search(value):
                return name
        return None


def scan(ctx, paths, connection: str = "default", strict: bool = False) -> list[Finding]:
    """Every finding in the env files of `paths` and the environment; `strict`: a store that
    cannot be read is an error (for --import), else the states are unknown."""
    from authsome.formats.dotenvparse import read

    matcher = Matcher(ctx.registry)
    found = []
    for path in env_files(paths):
        for entry in read(path):
            provider = matcher.provider_of(entry.key, entry.value)
            if provider:
                found.append(Finding(path, entry.line, entry.key, provider, entry.value, entry))
    found += _in_environment(ctx.environ, matcher)
    if found:
        _compare(ctx, found, connection, strict)
    return found


def _in_environment(environ, matcher) -> list[Finding]:
    from authsome.services.envbook import EXPORTED

    exported = set(environ.get(EXPORTED, "").split())  # `authsome env` set them
    found = []
    for key, value in sorted(environ.items()):
        provider = None if key in exported else matcher.provider_of(key, value)
        if provider:
            found.append(Finding(ENVIRONMENT, None, key, provider, value, None))
    return found


def _compare(ctx, found: list[Finding], connection: str, strict: bool) -> None:
    """Each finding's state against the stored connection of its provider. Unless `strict`,
    a store that cannot be read (locked, in a hook with no terminal) leaves it unknown."""
    from authsome.services.envbook import STORE_WIDE

    stored: dict[str, str | None] = {}
    for f in found:
        if f.provider not in stored:
            try:
                stored[f.provider] = _credential(ctx.connections.find(f.provider, connection))
            except STORE_WIDE as e:
                if strict:
                    raise
                ctx.io.say(f"authsome: the states are unknown: {e}")
                for other in found:
                    other.state = UNKNOWN
                return
        held = stored[f.provider]
        f.state = NOT_STORED if held is None else EQUAL if held == f.value else DIFFERENT


def _credential(conn) -> str | None:
    if conn is None:
        return None
    secrets = conn.secrets
    return secrets.get("api_key") or secrets.get("access_token")


def render(found: list[Finding]) -> str:
    from authsome.services.listing import columns

    headers = ("FILE", "LINE", "VARIABLE", "PROVIDER", "STATE")
    body = [(f.path, str(f.line or ""), f.key, f.provider, f.state + (f" ({f.why})" if f.why
             else "")) for f in found]  # fmt: skip
    return columns(headers, body)


def _literal_prefix(pattern: str) -> int:
    """How many characters a key pattern fixes at its start (sk-ant- is more than sk-)."""
    found = re.match(r"\^?[\w-]*", pattern)
    return len(found[0]) if found else 0
