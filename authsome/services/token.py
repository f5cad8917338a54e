"""`authsome token`: the one secret a connection hands out, fresh."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def token(ctx: Context, name: str, connection: str | None = None) -> str:
    """The access token or API key of `name`, refreshed first if it is close to expiry."""
    from authsome.services.audit import record
    from authsome.services.refresh import credential, fresh

    conn = fresh(ctx, name, connection)
    record(ctx, "token", conn.provider, conn.connection)
    return credential(conn)
