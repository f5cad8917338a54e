"""A refresh's answer, kept raw in the journal before it is parsed, and the record it makes.

The provider spends the old refresh token the moment it answers. So the answer goes into the
journal's reserved space (storage/journal.py) before anything else is done with it, sealed
under the old refresh token like any entry: should the process die before the new tokens are
stored, the next command that loads the connection makes the record from it (`recover`), as
of the moment the answer arrived.
"""

from __future__ import annotations

from authsome.storage.connections import Connection

TOKEN_FIELDS = ("access_token", "refresh_token")


def keep(journal, conn: Connection, base: str, answer: tuple, at: float, origin: str):
    """Write `answer` (status, body) into `journal`; the entry's path, or None when there is no
    journal, the answer holds no token, or it could not be written (the save goes on)."""
    status, body = answer
    if journal is None or not isinstance(body, dict):
        return None
    if not any(isinstance(body.get(name), str) and body[name] for name in TOKEN_FIELDS):
        return None  # an error: nothing was rotated, nothing to lose
    from authsome.util import jsonfast

    kept = {"answer": {"status": status, "body": body, "at": at, "origin": origin}}
    try:
        return journal.write(conn.key, base, jsonfast.dumps(kept), None)
    except OSError:
        return None  # a failed save is journalled as a whole record instead, as before


def apply(conn: Connection, tokens, token_origin: str | None, at: float) -> None:
    """Put the answer's tokens into `conn`, as issued at `at`; what the answer lacks is kept."""
    conn.secrets["access_token"] = tokens.access_token
    if tokens.refresh_token:  # rotation: the old one is now spent
        conn.secrets["refresh_token"] = tokens.refresh_token
    if tokens.id_token:
        conn.secrets["id_token"] = tokens.id_token
    conn.expires_at = tokens.expires_at
    conn.scopes = tokens.scopes or conn.scopes
    conn.token_origin = token_origin
    conn.updated_at = int(at)  # when they were issued: the lifetime sets the margin


def recover(stored: Connection, kept: dict) -> Connection | None:
    """`stored` as the save of the kept answer would have left it; None when it has no token."""
    from authsome.oauth.tokens import OAuthError, parse_token_response

    newer = Connection.from_json(stored.key, stored.to_json())
    try:
        body, at = kept["body"], float(kept["at"])
        if not isinstance(body, dict):
            return None
        tokens = parse_token_response(int(kept["status"]), body, at, stored.scopes)
    except OAuthError as e:
        if not e.refresh_token:
            return None
        newer.secrets["refresh_token"] = e.refresh_token  # as services/refresh.py keeps it
        return newer
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    origin = kept.get("origin")
    apply(newer, tokens, origin if isinstance(origin, str) else stored.token_origin, at)
    return newer
