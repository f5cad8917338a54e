"""`authsome env`: which variables to export, their values and when to refresh them.

A start-up line must never break, so by default `env` exports what it can and names, in one
line each, what it skipped and how to fix it; `--strict` keeps all-or-nothing for scripts.
It never asks for a passphrase: it runs in start-up files and at prompts, where a question
would stall the shell, so a locked vault is one line that says how to unlock it.
In the shell format it adds to what the shell holds (services/envbook.py): `env NAMES`
exports those names and unsets nothing else; `env --unset [NAMES]` removes.
The prompt hook re-runs it for what was exported: a name that fails there is retried every
minute, its variables are unset only once its credential is unusable, and each failure is
reported once (AUTHSOME_FAILING remembers which were).
"""

from __future__ import annotations

from authsome.errors import AuthsomeError, Cancelled, NotLoggedIn, UsageError
from authsome.services.envbook import (
    BOOKKEEPING,
    EXPIRES_AT,
    EXPIRY,
    EXPORTED,
    FAILING,
    REFRESH_AT,
    REFS,
    RETRY,
    STORE_WIDE,
    Export,
    Held,
    merge,
    remove,
    report,
)
from authsome.storage.connections import CONNECTED, display_ref, effective_margin, parse_ref

__all__ = [
    "BOOKKEEPING",
    "EXPIRES_AT",
    "EXPIRY",
    "EXPORTED",
    "FAILING",
    "REFRESH_AT",
    "REFS",
    "Export",
    "Held",
    "collect",
    "default_refs",
    "render",
    "run",
]
NEVER_EXPORTED = ("refresh_token", "client_secret", "registration_access_token")


def default_refs(ctx) -> list[str]:
    """Every connected provider's default connection."""
    refs = []
    for entry in ctx.connections.list():
        if entry.get("connection") == "default" and entry.get("status", CONNECTED) == CONNECTED:
            refs.append(entry["provider"])
    if not refs:
        raise NotLoggedIn("no connected providers to export", "log in first: authsome login NAME")
    return refs


class _Muted:
    """`ctx` with io.say() held back: for a ref whose failure was already reported."""

    def __init__(self, ctx):
        self._ctx = ctx
        self.lines: list[str] = []
        self.io = _MutedIO(ctx.io, self.lines)

    def __getattr__(self, name):
        return getattr(self._ctx, name)


class _MutedIO:
    def __init__(self, io, lines: list[str]):
        self._io = io
        self.say = lines.append

    def __getattr__(self, name):
        return getattr(self._io, name)


def _normal(ref: str) -> str:
    try:
        return display_ref(*parse_ref(ref))
    except AuthsomeError:
        return ref


def collect(ctx, refs: list[str], strict: bool = True, reported=()) -> Export:
    """Fresh credentials for `refs`, refreshed first where close to expiry.

    strict: the first error is raised. Otherwise a ref that fails is left out and recorded in
    `failed`. `reported`: refs whose failing refresh was already reported; their warnings are
    held back while it goes on failing.
    """
    out = Export()
    owner: dict[str, str] = {}
    now = int(ctx.clock())
    store_error = None
    for ref in refs or default_refs(ctx):
        if store_error is not None:
            out.failed[_normal(ref)] = store_error
            continue
        try:
            _collect_one(ctx, ref, out, owner, now, _normal(ref) in reported)
        except AuthsomeError as e:
            if strict or isinstance(e, Cancelled):
                raise
            out.failed[_normal(ref)] = e
            store_error = e if isinstance(e, STORE_WIDE) else None
    return out


def _collect_one(ctx, ref: str, out: Export, owner: dict, now: int, reported: bool) -> None:
    """`ref`'s fresh credentials into `out`; its warnings held back while a refresh that was
    already reported goes on failing."""
    from authsome.services.refresh import fresh, needs_refresh

    muted = _Muted(ctx) if reported else None
    conn = fresh(muted or ctx, ref)
    name = display_ref(conn.provider, conn.connection)
    fields = _fields(ctx, conn, name, owner)
    stale = needs_refresh(conn, now, ctx.refresh_margin)  # due, yet not refreshed
    for line in muted.lines if muted is not None and not stale else ():
        ctx.io.say(line)  # it works again: nothing to hold back
    _add(out, conn, name, fields, owner, stale, _refresh_due(conn, now, ctx.refresh_margin))


def _add(out: Export, conn, name: str, fields: dict, owner: dict, stale: bool, due) -> None:
    """`conn`'s variables into `out`, with their expiry and when the hook should refresh."""
    if stale and name not in out.failing:
        out.failing.append(name)
    for var, fld in fields.items():
        owner[var] = name
        out.values[var] = conn.secrets[fld]
        if conn.expires_at is not None and fld != "api_key":
            out.expires[var] = conn.expires_at
            out.refresh_at = due if out.refresh_at is None else min(out.refresh_at, due)
    if name not in out.refs:
        out.refs.append(name)


def _refresh_due(conn, now: int, margin: int) -> int | None:
    """When the hook should refresh `conn`: a little before it expires (None: never)."""
    if conn.expires_at is None:
        return None
    due = int(conn.expires_at - effective_margin(conn.expires_at, conn.updated_at, margin))
    return due if due > now else now + RETRY  # its refresh failed: retry later


def _fields(ctx, conn, name: str, owner: dict[str, str]) -> dict[str, str]:
    """variable -> secret field of `conn` to export; an error if another ref exports one."""
    provider = ctx.registry.get(conn.provider)
    fields = {}
    for fld, var in provider.export_env.items():
        if fld in NEVER_EXPORTED or fld not in conn.secrets:
            continue
        if var in owner and owner[var] != name:
            raise UsageError(
                f"{owner[var]} and {name} both export {var}",
                "export them separately, or override export.env for one provider",
            )
        fields[var] = fld
    return fields


def run(
    ctx, names, shell=None, fmt="shell", unset=False, strict=False, env_files=()
) -> AuthsomeError | None:
    """`authsome env`: prints its output (and writes a format's file, after the text), and
    returns the error of the first name it skipped (which sets the exit status), if any."""
    from authsome import formats

    ctx.io.asks = False  # never a passphrase prompt: see the module's docstring
    output = formats.get(fmt)
    target = output.target(ctx.environ) if hasattr(output, "target") and not unset else None
    text, export, error = render(ctx, names, shell, fmt, unset, strict, env_files)
    ctx.io.emit(text)
    audit_export(ctx, "env", export)
    if target is not None:
        output.deliver(export, target)
    return error


def audit_export(ctx, event: str, export: Export, **extra) -> None:
    """One audit line for each connection whose credentials `export` hands out."""
    from authsome.services.audit import record

    for ref in export.refs:
        if ref not in export.failed and ref not in export.carried:
            provider, connection = parse_ref(ref)
            record(ctx, event, provider, connection, **extra)


def render(
    ctx, names, shell: str | None = None, fmt: str = "shell", unset=False, strict=False, files=()
) -> tuple[str, Export, AuthsomeError | None]:
    """The whole output of `authsome env`, built before anything is printed, what it exports,
    and the error of the first name it skipped, if any."""
    from authsome import formats, shells

    dialect = shells.get(shell or shells.detect(ctx.environ))
    # Only the shell's own code adds to what it holds: a .env file or JSON has just the names.
    held = Held.read(ctx.environ) if fmt == formats.SHELL or unset else Held()
    if unset:
        return remove(ctx, dialect, held, [_normal(n) for n in names]), Export(), None
    refs = list(names) or ([] if files else default_refs(ctx))  # files alone: just theirs
    named = [_normal(r) for r in refs]
    export = collect(ctx, refs, strict, held.failing) if refs else Export()
    if files:  # every line must resolve: a file is all or nothing, as under --strict
        from authsome.services.envfiles import for_shell

        export.values.update(for_shell(ctx, files, export.values, names))
    gone = merge(ctx, export, held, named, int(ctx.clock()))
    report(ctx, export, held, gone, names)
    error = next(iter(export.failed.values()), None)
    output = formats.get(fmt)
    for line in output.warnings(export.values):
        ctx.io.say(line)
    kept = export.bookkeeping()
    cleared = [b for b in BOOKKEEPING if b in ctx.environ and b not in kept]
    return output.render(export, gone + cleared, dialect), export, error
