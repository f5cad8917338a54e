"""A 403 with `insufficient_scope` (RFC 6750 section 3.1; the MCP spec's step-up): which
scopes the request needs that the login lacks, and the login that asks for them."""

from __future__ import annotations

import re

from authsome.oauth.challenge import bearer_params, scopes
from authsome.util.termtext import printable


def insufficient_scope(bridge, answer) -> str | None:
    """For the bridge's 403 `answer`: the one line to answer with, or None (not about scopes)."""
    return insufficient(bridge.ctx, bridge.name, answer.headers.get("www-authenticate"))


def insufficient(ctx, name: str, challenge: str | None) -> str | None:
    """The one line to answer with, or None when the 403 is not about scopes."""
    params = bearer_params(challenge)
    if params.get("error") != "insufficient_scope":
        return None
    # The MCP SDK's servers name the scope only in words: "Required scope: files:write".
    described = re.match(r"(?i)\s*required scopes?:\s*(.*)", params.get("error_description", ""))
    needed = scopes(params) or (
        re.split(r"[\s,]+", described.group(1).strip()) if described else []
    )
    granted = _granted(ctx, name)
    needed = [printable(s) for s in needed if s]  # the server's words reach a terminal
    missing = [s for s in needed if s not in granted] or needed
    if not missing:
        return (
            f"{name} refused this request for want of a scope it did not name."
            f" Log in again: authsome login {name} --force"
        )
    # Asked for together with what the login has, so that a new login loses nothing.
    wanted = list(dict.fromkeys([*granted, *needed]))
    return (
        f"{name} needs the scope {' '.join(missing)} for this request, which the login lacks."
        f" Log in with it: authsome login {name} --force --scopes {','.join(wanted)}"
    )


def _granted(ctx, name: str) -> list[str]:
    from authsome.storage.connections import parse_ref

    conn = ctx.connections.find(*parse_ref(name))
    return list(conn.scopes or ()) if conn is not None else []
