"""What the shell holds from earlier `authsome env` runs, and what a new run keeps of it.

`env` exports bookkeeping beside the credentials (the variables, the refs, each variable's
expiry) and reads it back from the shell. So `env NAMES` adds to the shell: it exports those
names and leaves the rest as it was. Of a named ref's old variables it unsets only those whose
credential is unusable now: refused by the store (logged out; expired and not refreshed) or,
when the store cannot be read at all (a locked vault), expired by the shell's own record. A
typo, or a vault locked at a prompt, unsets nothing that still works. `env --unset NAMES`
removes those names; `--unset` alone, everything.
"""

from __future__ import annotations

from authsome.errors import (
    AuthsomeError,
    BadPassphrase,
    CorruptData,
    FilesystemError,
    StoreUnavailable,
)
from authsome.util.record import SECRET_FIELDS, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context
    from authsome.util.record import DEFAULT

# Bookkeeping variables exported beside the credentials.
EXPORTED = "AUTHSOME_EXPORTED"  # the credential variables, space-separated
REFS = "AUTHSOME_REFS"  # what to re-export: "github openai:work"
EXPIRES_AT = "AUTHSOME_EXPIRES_AT"  # the earliest expiry, epoch seconds (absent: none expire)
EXPIRY = "AUTHSOME_EXPIRY"  # each expiring variable's expiry: "GITHUB_TOKEN=1700000000 ..."
REFRESH_AT = "AUTHSOME_REFRESH_AT"  # when the prompt hook should re-run `authsome env`
FAILING = "AUTHSOME_FAILING"  # refs whose refresh is failing and was already reported
BOOKKEEPING = (EXPORTED, REFS, EXPIRES_AT, EXPIRY, REFRESH_AT, FAILING)
RETRY = 60  # seconds before the hook tries a failing refresh again
# Errors of the whole store: every later name would fail the same way, so none is tried.
STORE_WIDE = (StoreUnavailable, BadPassphrase, CorruptData, FilesystemError)


class Export(Record):
    """values: variable -> value; refs: what the shell holds after this run; expires: variable
    -> expiry; failed: ref -> the error that stopped it; failing: refs to report no more.
    In the shell, beside what this run exported: kept, the variables held from before and not
    exported again; carried, the refs held from before and not named in this run."""

    __slots__ = ("values", "refs", "expires", "refresh_at", "failed", "failing", "kept", "carried")
    _defaults = {
        "values": dict,
        "refs": list,
        "expires": dict,
        "refresh_at": None,
        "failed": dict,
        "failing": list,
        "kept": list,
        "carried": list,
    }
    _secret_fields = SECRET_FIELDS | {"values"}

    if TYPE_CHECKING:
        values: dict[str, str] = DEFAULT
        refs: list[str] = DEFAULT
        expires: dict[str, int] = DEFAULT
        refresh_at: int | None = DEFAULT
        failed: dict[str, AuthsomeError] = DEFAULT
        failing: list[str] = DEFAULT
        kept: list[str] = DEFAULT
        carried: list[str] = DEFAULT

    @property
    def expires_at(self) -> int | None:
        return min(self.expires.values()) if self.expires else None

    def bookkeeping(self) -> dict[str, str]:
        if not self.refs:
            return {}
        out = {EXPORTED: " ".join([*self.values, *self.kept]), REFS: " ".join(self.refs)}
        if self.expires:
            out[EXPIRES_AT] = str(self.expires_at)
            out[EXPIRY] = " ".join(f"{var}={at}" for var, at in self.expires.items())
        if self.refresh_at is not None:
            out[REFRESH_AT] = str(self.refresh_at)
        if self.failing:
            out[FAILING] = " ".join(self.failing)
        return out


class Held(Record):
    """What the shell holds from earlier runs: its variables, the refs that exported them, each
    variable's expiry (absent: it never expires), and the refs already reported failing."""

    __slots__ = ("variables", "refs", "expiry", "failing", "refresh_at")
    _defaults = {
        "variables": list,
        "refs": list,
        "expiry": dict,
        "failing": list,
        "refresh_at": None,
    }

    if TYPE_CHECKING:
        variables: list[str] = DEFAULT
        refs: list[str] = DEFAULT
        expiry: dict[str, int] = DEFAULT
        failing: list[str] = DEFAULT
        refresh_at: int | None = DEFAULT

    @classmethod
    def read(cls, environ: dict[str, str]) -> Held:
        from authsome.shells import safe_names

        # Plain names and digits only: these come from the environment, which anyone may set.
        expiry = {}
        for word in environ.get(EXPIRY, "").split():
            var, _, at = word.partition("=")
            if safe_names(var) == [var] and at.isascii() and at.isdigit():
                expiry[var] = int(at)
        at = environ.get(REFRESH_AT, "")
        return cls(
            variables=safe_names(environ.get(EXPORTED, "")),
            refs=_refs(environ.get(REFS, "")),
            expiry=expiry,
            failing=_refs(environ.get(FAILING, "")),
            refresh_at=int(at) if at.isascii() and at.isdigit() else None,
        )

    def usable(self, var: str, now: float) -> bool:
        """Whether `var`'s credential has not expired, as far as the shell knows."""
        return self.expiry.get(var, now + 1) > now


def _refs(text: str) -> list[str]:
    """The words of `text` that are refs (NAME or NAME:CONNECTION), the rest dropped."""
    from authsome.util.names import is_name

    return [ref for ref in text.split() if all(map(is_name, ref.split(":", 1)))]


class _Owners:
    """variable -> the held ref whose provider exports it; read from the providers only when
    first asked (the hook's usual run, which exports everything again, never asks)."""

    _map: dict[str, str] | None

    def __init__(self, ctx: Context, refs: list[str]):
        self._ctx, self._refs, self._map = ctx, refs, None

    def of(self, var: str) -> str | None:
        if self._map is None:
            self._map = {}
            for ref in self._refs:
                for name in variables(self._ctx, ref):
                    self._map.setdefault(name, ref)
        return self._map.get(var)


def merge(ctx: Context, export: Export, held: Held, named: list[str], now: int) -> list[str]:
    """Adds to `export` what the shell keeps of `held`; returns the variables to unset."""
    _keep_trying(export, held.refs, now + RETRY)
    owners = _Owners(ctx, held.refs)
    carried = [r for r in held.refs if r not in named]
    # A ref carried over whose variable a named ref exports now is replaced by it.
    taken = {owners.of(v) for v in export.values if carried and v in held.variables}
    carried = [r for r in carried if r not in taken]
    gone = []
    for var in held.variables:
        if var in export.values:
            continue
        owner = owners.of(var)
        if owner in carried or (owner is None and held.usable(var, now)):
            keep = True
        elif owner in named:
            keep = isinstance(export.failed.get(owner), STORE_WIDE) and held.usable(var, now)
        else:
            keep = False  # its ref was replaced, or it no longer exports it
        if keep:
            export.kept.append(var)
            if var in held.expiry:
                export.expires[var] = held.expiry[var]
        else:
            gone.append(var)
    _carry(export, held, carried)
    return gone


def _keep_trying(export: Export, held_refs: list[str], retry: int) -> None:
    """A ref the shell held that failed now stays in the bookkeeping, so the hook tries it
    again: it may work again by itself."""
    for ref in export.failed:
        if ref in held_refs and ref not in export.refs:
            export.refs.append(ref)
            export.failing.append(ref)
            export.refresh_at = min(export.refresh_at or retry, retry)


def _carry(export: Export, held: Held, carried: list[str]) -> None:
    """The refs the shell held and this run did not name stay, in the shell's order."""
    if not carried:
        return
    mine = export.refs
    export.refs = [r for r in held.refs if r in carried or r in mine]
    export.refs += [r for r in mine if r not in export.refs]
    export.carried = carried
    export.failing += [r for r in held.failing if r in carried and r not in export.failing]
    if held.refresh_at is not None:
        export.refresh_at = min(export.refresh_at or held.refresh_at, held.refresh_at)


def remove(ctx: Context, dialect, held: Held, names: list[str]) -> str:
    """Shell code that removes `names` (all when empty) from what the shell holds."""
    from authsome import shells

    present = [b for b in BOOKKEEPING if b in ctx.environ]
    if not names:
        return shells.script(dialect, {}, [*held.variables, *present])
    for name in names:
        if name not in held.refs:
            ctx.io.say(f"authsome: nothing to unset for {name}: this shell holds none of it")
    owners = _Owners(ctx, held.refs)
    gone = [v for v in held.variables if owners.of(v) in names]
    rest = Export(
        refs=[r for r in held.refs if r not in names],
        kept=[v for v in held.variables if v not in gone],
        expires={v: at for v, at in held.expiry.items() if v not in gone},
        refresh_at=held.refresh_at,
        failing=[r for r in held.failing if r not in names],
    )
    book = rest.bookkeeping()
    return shells.script(dialect, book, [*gone, *(b for b in present if b not in book)])


def report(ctx: Context, export: Export, held: Held, gone: list[str], args) -> None:
    """One line per failed ref, unless it was reported already and nothing changed since; one
    for all the refs a store-wide error (a locked vault) stopped."""
    if not export.failed:
        return  # the common case: spares importing secretlike and compiling its patterns
    from authsome.util.secretlike import hide

    groups: dict[tuple, tuple] = {}
    for ref, error in export.failed.items():
        refreshing = ref in held.refs
        key = (id(error), refreshing) if isinstance(error, STORE_WIDE) else (ref,)
        groups.setdefault(key, (error, refreshing, []))[2].append(ref)
    for error, refreshing, refs in groups.values():
        theirs = set().union(*(variables(ctx, r) for r in refs))
        unset_now = [v for v in gone if v in theirs]
        if not unset_now and all(r in held.failing for r in refs):
            continue
        ctx.io.say(hide(skip_line(", ".join(refs), error, refreshing, unset_now), args))


def skip_line(ref: str, error, refreshing: bool, unset: list[str]) -> str:
    """The one line that says what was left out, why, and how to fix it."""
    fix = f". {error.fix[0].upper()}{error.fix[1:]}" if error.fix else ""
    if unset:
        head = f"unset {' '.join(unset)}: could not refresh {ref}"
    elif refreshing:
        head = f"could not refresh {ref} (retrying every minute)"
    else:
        head = f"skipped {ref}"
    return f"authsome: {head}: {error.what}{fix}"


def variables(ctx: Context, ref: str) -> set[str]:
    """The variables `ref`'s provider exports (none when it cannot be loaded)."""
    from authsome.storage.connection import parse_ref

    try:
        return set(ctx.registry.get(parse_ref(ref)[0]).export_env.values())
    except AuthsomeError:
        return set()
