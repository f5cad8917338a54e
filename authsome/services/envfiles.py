"""The variables that env files and the environment's references give a command (`run
--env-file`, `env --env-file`, direnv's `use authsome --env-file`).

Precedence, as `op run` has it: the inherited environment (its references resolved), then each
env file in the order given, a later file overriding an earlier one and any file the inherited
environment. A provider NAME on the command line overrides the inherited environment; where it
and a file both set a variable, they must agree (else an error: neither silently wins). Every
file is read and every reference parsed before any credential is: a typo stops the command
before it starts, and before the network is reached.
"""

from __future__ import annotations

from authsome.errors import AuthsomeError, UsageError
from authsome.services.references import PREFIX, Resolver, located, parse, resolve


def inherited_items(environ) -> list[tuple[str, str, str]]:
    """(where, KEY, value) for each reference in `environ`, less what unlocks authsome."""
    from authsome.services.childenv import UNLOCKING
    from authsome.services.envbook import BOOKKEEPING

    skip = {*UNLOCKING, *BOOKKEEPING}
    return [
        (f"{key} in the environment", key, value)
        for key, value in environ.items()
        if value.startswith(PREFIX) and key not in skip
    ]


def file_items(paths) -> list[tuple[str, str, str]]:
    """(where, KEY, value) for every entry of the env files, in order."""
    from authsome.errors import InputError
    from authsome.formats.dotenvparse import read

    items = []
    for path in paths:
        for e in read(path):
            if "=" in e.key:  # a quoted key may hold one; no environment can
                raise InputError(f"{e.path}:{e.line}: the key holds '='", "remove it from the key")
            items.append((f"{e.path}:{e.line}: {e.key}", e.key, e.value))
    return items


def last_of(items) -> list[tuple[str, str, str]]:
    """`items` less those a later item with the same KEY overrides (never resolved)."""
    return list({key: (where, key, value) for where, key, value in items}.values())


def referenced(items) -> list[str]:
    """The connections ('github:work') the references among `items` name, each once;
    InputError, located, for a malformed one."""
    found = []
    for where, _key, value in items:
        if value.startswith(PREFIX):
            try:
                ref = parse(value).ref
            except AuthsomeError as e:
                raise located(e, where) from None
            if ref not in found:
                found.append(ref)
    return found


class Sources:
    """The inherited references and the env files' entries, read and checked."""

    def __init__(self, environ, paths):
        self.files = last_of(file_items(paths))
        named = {key for _where, key, _value in self.files}
        self.inherited = [i for i in inherited_items(environ) if i[1] not in named]
        self.refs = referenced([*self.inherited, *self.files])  # every reference parsed

    def resolve(self, resolver: Resolver) -> tuple[dict[str, str], dict[str, str]]:
        """(the inherited references' values, the files' values)."""
        return resolve(resolver, self.inherited), resolve(resolver, self.files)


def check_agree(by_names: dict[str, str], from_files: dict[str, str], names) -> None:
    """A UsageError when a provider name and an env file set a variable differently."""
    for key, value in from_files.items():
        if key in by_names and by_names[key] != value:
            raise UsageError(
                f"{key} is set both by {' '.join(names) or 'the proxy'} and by an env file, to"
                " different values",
                "remove one of them, or make the file's line reference the same connection",
            )


def audit(ctx, event: str, resolver: Resolver, done=(), **extra) -> None:
    """One audit line for each connection the references read (but those in `done`)."""
    from authsome.services.audit import record

    for provider, connection in resolver.used:
        if (provider, connection) not in done:
            record(ctx, event, provider, connection, **extra)


def for_shell(ctx, paths, by_names: dict[str, str], names) -> dict[str, str]:
    """`env --env-file`: the files' variables, references resolved, for shell code; each key
    must be a variable name a shell can export (it is written into the code unquoted)."""
    from authsome.errors import InputError
    from authsome.shells import safe_names

    sources = Sources({}, paths)
    for where, key, _value in sources.files:
        if safe_names(key) != [key]:
            raise InputError(
                f"{where.rsplit(': ', 1)[0]}: the key is not a variable name a shell can export",
                "use letters, digits and '_', not starting with a digit",
            )
    resolver = Resolver(ctx)
    _inherited, from_files = sources.resolve(resolver)
    check_agree(by_names, from_files, names)
    audit(ctx, "env", resolver)
    return from_files
