"""`authsome env`: which variables to export, their values and when to refresh them."""

from __future__ import annotations

from authsome.connections import CONNECTED, display_ref, effective_margin
from authsome.errors import NotLoggedIn, UsageError
from authsome.record import SECRET_FIELDS, Record

# Bookkeeping variables exported beside the credentials.
EXPORTED = "AUTHSOME_EXPORTED"  # the credential variables, space-separated
REFS = "AUTHSOME_REFS"  # what to re-export: "github openai:work"
EXPIRES_AT = "AUTHSOME_EXPIRES_AT"  # the earliest expiry, epoch seconds (absent: none expire)
REFRESH_AT = "AUTHSOME_REFRESH_AT"  # when the prompt hook should re-run `authsome env`
BOOKKEEPING = (EXPORTED, REFS, EXPIRES_AT, REFRESH_AT)
NEVER_EXPORTED = ("refresh_token", "client_secret", "registration_access_token")
FORMATS = ("shell", "dotenv", "json")


class Export(Record):
    """values: variable -> value; refs: what was exported; expires: variable -> expiry."""

    __slots__ = ("values", "refs", "expires", "refresh_at")
    _defaults = {"values": dict, "refs": list, "expires": dict, "refresh_at": None}
    _secret_fields = SECRET_FIELDS | {"values"}

    @property
    def expires_at(self) -> int | None:
        return min(self.expires.values()) if self.expires else None

    def bookkeeping(self) -> dict[str, str]:
        out = {EXPORTED: " ".join(self.values), REFS: " ".join(self.refs)}
        if self.expires_at is not None:
            out[EXPIRES_AT] = str(self.expires_at)
        if self.refresh_at is not None:
            out[REFRESH_AT] = str(self.refresh_at)
        return out


def default_refs(ctx) -> list[str]:
    """Every connected provider's default connection."""
    refs = []
    for entry in ctx.connections.list():
        if entry.get("connection") == "default" and entry.get("status", CONNECTED) == CONNECTED:
            refs.append(entry["provider"])
    if not refs:
        raise NotLoggedIn("no connected providers to export", "log in first: authsome login NAME")
    return refs


def collect(ctx, refs: list[str]) -> Export:
    """Fresh credentials for `refs`, refreshed first where close to expiry."""
    from authsome.lifecycle import fresh

    out = Export()
    owner: dict[str, str] = {}
    for ref in refs or default_refs(ctx):
        conn = fresh(ctx, ref)
        name = display_ref(conn.provider, conn.connection)
        provider = ctx.registry.get(conn.provider)
        for fld, var in provider.export_env.items():
            if fld in NEVER_EXPORTED or fld not in conn.secrets:
                continue
            if var in owner and owner[var] != name:
                raise UsageError(
                    f"{owner[var]} and {name} both export {var}",
                    "export them separately, or override export.env for one provider",
                )
            owner[var] = name
            out.values[var] = conn.secrets[fld]
            if conn.expires_at is not None and fld != "api_key":
                out.expires[var] = conn.expires_at
                due = int(
                    conn.expires_at
                    - effective_margin(conn.expires_at, conn.updated_at, ctx.refresh_margin)
                )
                out.refresh_at = due if out.refresh_at is None else min(out.refresh_at, due)
        if name not in out.refs:
            out.refs.append(name)
    return out


def render(ctx, names: list[str], shell: str | None, fmt: str = "shell", unset=False) -> str:
    """The whole output of `authsome env`, built before anything is printed."""
    from authsome import shells

    dialect = shells.get(shell or shells.detect(ctx.environ))
    previous = shells.safe_names(ctx.environ.get(EXPORTED, ""))
    if unset:
        bookkeeping = [b for b in BOOKKEEPING if b in ctx.environ]
        return shells.script(dialect, {}, [*previous, *bookkeeping])
    export = collect(ctx, names)
    if fmt == "json":
        from authsome.shells import jsonfmt

        return jsonfmt.render(export)
    if fmt == "dotenv":
        from authsome.shells import dotenv

        for name in dotenv.unsafe_for_docker(export.values):
            ctx.say(
                f"authsome: warning: {name} holds characters that docker --env-file reads "
                "literally (quotes, newlines) or python-dotenv expands (${...})."
            )
        return shells.script(dotenv, export.values)
    new = export.bookkeeping()
    stale = [n for n in previous if n not in export.values]
    cleared = [b for b in BOOKKEEPING if b in ctx.environ and b not in new]
    return shells.script(dialect, {**export.values, **new}, stale + cleared)
