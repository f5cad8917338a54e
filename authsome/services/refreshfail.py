"""A refresh that failed for a passing reason, told to the processes that waited for it.

A failure is recorded beside the per-connection lock file (for the waiters on this machine) and
in the released marker of a shared store's lock (for the waiters on other machines), so that a
crowd waiting for one refresh does not retry it one by one. Only the waiters see it: whoever
asks afterwards tries again, so that "try again in a moment" is true. The process that met it
also keeps it in memory and backs off, for one that asks again and again (run --proxy).
"""

from __future__ import annotations

import contextlib
import json
import os

from authsome.errors import AuthFailed, AuthsomeError, FilesystemError, NetworkError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context
    from authsome.storage.connections import Connection

# Only these refusals mean the login is dead; the transient ones leave it as it was.
DEAD_LOGIN = ("invalid_grant", "invalid_client", "unauthorized_client")
TRANSIENT = ("invalid_response", "server_error", "temporarily_unavailable", "slow_down")


def failure_path(lock) -> str:
    return os.fspath(lock) + ".failed"


def doc_of(now: float, error: AuthsomeError) -> dict:
    return {"at": now, "kind": type(error).__name__, "what": error.what, "fix": error.fix}


def error_of(doc: dict | None) -> AuthsomeError | None:
    """The error a failure record stands for (a transient one: network, or the local disk)."""
    if not isinstance(doc, dict):
        return None
    kind = FilesystemError if doc.get("kind") == "FilesystemError" else NetworkError
    return kind(str(doc.get("what")), doc.get("fix") and str(doc["fix"]))


def keep(lock, doc: dict) -> None:
    from authsome.util import fsutil

    # Only an optimisation for the waiters: never worth failing over.
    with contextlib.suppress(OSError):
        fsutil.atomic_write(failure_path(lock), json.dumps(doc).encode())


def recent(lock, waited_since: float) -> AuthsomeError | None:
    """The failure of a refresh that ended while we waited for the lock, if any."""
    # Only the waiters share it: whoever asks afterwards tries again, so that "try again in a
    # moment" is true.
    path = failure_path(lock)
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        at = float(doc["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if at < waited_since:
        return None
    return error_of(doc)


def clear(lock) -> None:
    _here.pop(os.fspath(lock), None)
    with contextlib.suppress(OSError):
        os.unlink(failure_path(lock))


# This process's failures to refresh one token, by lock: (the token's expiry, failures, when to
# try again, the error). A proxy asks on every request; while the token endpoint is down it
# must not send one refresh per request, nor warn each time.
_here: dict[str, tuple[float | None, int, float, AuthsomeError]] = {}
FIRST_DELAY, MAX_DELAY, MIN_DELAY = 2.0, 30.0, 1.0


def backing_off(lock, now: float, expires_at: float | None) -> AuthsomeError | None:
    """The failure this process met refreshing the token of `expires_at`, while it backs off."""
    episode = _here.get(os.fspath(lock))
    if episode is None or episode[0] != expires_at or now >= episode[2]:
        return None
    return episode[3]


def note(lock, now: float, error: AuthsomeError, expires_at: float | None) -> bool:
    """Back off from a failed refresh; True for a token's first failure (the one to tell)."""
    episode = _here.get(os.fspath(lock))
    count = episode[1] + 1 if episode and episode[0] == expires_at else 1
    delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (count - 1))
    if expires_at is not None and expires_at > now:  # denser towards expiry, one before it
        delay = min(delay, max(MIN_DELAY, (expires_at - now) / 2))
    _here[os.fspath(lock)] = (expires_at, count, now + delay, error)
    return count == 1


def refused(ctx: Context, provider, conn, hint: str, answer, spent: tuple, shared):
    """Turn a refused refresh into the right error; keep whatever the answer had that is valid."""
    (status, e), name, (base, journaled) = answer, provider.display_name, spent
    if e.code in DEAD_LOGIN:
        conn.status = "expired"
        ctx.connections.save(conn)
        raise AuthFailed(
            f"{name} refused to refresh the token for {hint} ({e.text()})",
            f"run: authsome login {hint} --force",
        ) from None
    if e.refresh_token:
        # A rotated refresh token with no usable access token: the old one is spent, so keep it.
        conn.secrets["refresh_token"] = e.refresh_token
        if ctx.connections.commit(conn, base, shared.save_budget(), journaled):
            shared.keep_marker()
    if status >= 500 or status == 429 or e.code in TRANSIENT:
        raise NetworkError(
            f"{name} could not refresh the token for {hint} right now ({_http(status, e)})",
            "your login is unchanged; try again in a moment",
        ) from None
    raise AuthFailed(
        f"{name} refused to refresh the token for {hint} ({e.text()})",
        f"check the provider's settings, or run: authsome login {hint} --force",
    ) from None


def _http(status: int, e) -> str:
    return e.text() if e.code != "invalid_response" else f"HTTP {status}, no usable token"


def failed(ctx: Context, lock, conn: Connection, hint: str, error: AuthsomeError) -> Connection:
    """Fall back after a failed refresh and back off; only a token's first failure warns."""
    first = note(lock, ctx.clock(), error, conn.expires_at)
    return fall_back(ctx, conn, hint, error, warn=first)


def fall_back(
    ctx: Context, conn: Connection, hint: str, error: AuthsomeError, warn=True
) -> Connection:
    """A token that is due but not yet expired still works: hand it out, and say why."""
    # One without an expiry is here only because the server refused it: nothing to hand out.
    left = 0 if conn.expires_at is None else int(conn.expires_at - ctx.clock())
    if left <= 0:
        raise error
    if warn:
        ctx.io.say(
            f"authsome: warning: could not refresh {hint} ({error.what}); using the current"
            f" token, which expires in {left} s."
        )
    return conn
