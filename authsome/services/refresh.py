"""Fresh tokens: refresh before expiry, once across all processes, never losing a rotated token.

The guarantees, in the order a refresh meets them:
- Single flight: one process refreshes while the others wait on a per-connection lock, then
  read what it stored. A store shared by many machines (the vault store) adds a lock of its
  own inside that one, so that a single process of all the machines refreshes
  (storage/vault/lock.py); it then writes with compare-and-set against the version it read.
- Space for the answer is reserved in the journal before the request is sent, so a full disk
  stops the refresh while the old refresh token is still good.
- From the request until the new tokens are stored, SIGINT, SIGTERM and SIGHUP are deferred;
  and the refresh runs in a helper process that a SIGKILL of the command leaves to finish
  (services/refreshhelper.py). The raw answer is journalled before it is parsed.
- A save that fails is retried for a few seconds, then kept encrypted in the journal, which
  the next command finishes.
- A transient failure (network, 5xx, 429, garbage) leaves the login as it was and is recorded
  beside the lock, so that the processes that waited on it do not each try again, and in
  memory, where run --proxy backs off. A token not yet expired is still handed out, warned once.
- Only invalid_grant, invalid_client and unauthorized_client mean the login is dead.
"""

from __future__ import annotations

from authsome.errors import (
    AuthFailed,
    FilesystemError,
    NetworkError,
    NotLoggedIn,
    StoreUnavailable,
)
from authsome.services.audit import record
from authsome.storage.connections import (
    CONNECTED,
    Connection,
    display_ref,
    effective_margin,
    parse_ref,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context
    from authsome.providers.model import OAuthSpec


def needs_refresh(conn: Connection, now: float, margin: int) -> bool:
    """Whether `conn` is due: within the refresh margin of its expiry."""
    if conn.expires_at is None:
        return False  # a token without a lifetime is used until the server refuses it
    # Refreshing ahead of expiry leaves the token room to live through the command that gets
    # it. The margin is capped at half the token's lifetime: a provider whose tokens live less
    # than the margin would otherwise be refreshed on every call.
    return conn.expires_at - now <= effective_margin(conn.expires_at, conn.updated_at, margin)


def fresh(ctx: Context, ref: str, connection=None) -> Connection:
    """The connection with a usable credential, refreshed first when it is close to expiry."""
    provider_name, conn_name = parse_ref(ref, connection)
    hint = display_ref(provider_name, conn_name)
    try:
        conn = ctx.connections.load(provider_name, conn_name)
    except NotLoggedIn:
        ctx.registry.check_known(provider_name)  # a typo says so, rather than "log in"
        raise
    _check_usable(conn, hint)
    if not needs_refresh(conn, ctx.clock(), ctx.refresh_margin):
        return conn
    if "refresh_token" not in conn.secrets:
        return _unrefreshable(ctx, conn, hint)
    # After a wait (the lock, a save retried against a stalled store) the new token may have
    # expired already: never hand that out; refresh once more, now that the wait is over. One
    # the server issued with no life at all (expires_in 0) is all there is: a retry gets the same.
    for _ in range(2):
        conn = refreshed(ctx, conn, hint)
        if conn.expires_at is None or conn.expires_at > ctx.clock():
            return conn
        if conn.expires_at - (conn.updated_at or 0) < 1:  # updated_at: when it was issued
            return conn
    raise StoreUnavailable(
        f"the new token for {hint} expired while it was being saved",
        "run the command again; if it happens again, check the store (authsome doctor)",
    )


def refreshed(ctx: Context, due: Connection, hint: str, rejected: str | None = None) -> Connection:
    """The single flight, in a helper process when one can be forked (a SIGKILL of this one
    then loses nothing), else here; `rejected`: a token the server refused, refreshed if kept."""
    from authsome.services import refreshhelper as helper

    def single_flight():
        return _single_flight(ctx, due, hint, rejected)

    if helper.usable(ctx):
        return helper.run(ctx, due.provider, due.connection, hint, single_flight)
    return single_flight()


def _single_flight(ctx: Context, due: Connection, hint: str, rejected=None) -> Connection:
    """Refresh once across processes and machines; the others read what the one stored."""
    # Imported here, not at the top: `token` and `env` with a fresh token never get this far.
    from authsome.services import refreshfail as failures
    from authsome.storage.pending import pending_error
    from authsome.util.locking import file_lock

    provider_name, conn_name = due.provider, due.connection
    # Single flight: with rotating refresh tokens, two processes refreshing at once would each
    # spend the same token, and reuse detection would kill the login. So one refreshes under a
    # per-connection lock while the others wait, then read again; a store that other machines
    # share (vault) adds its own lock inside this one: one process per machine, one machine.
    lock = ctx.home.lock_path(f"refresh.{provider_name}.{conn_name}")
    waited_since = ctx.clock()
    held = failures.backing_off(lock, waited_since, due.expires_at)
    if held is not None:  # this process failed to refresh it a moment ago: not again yet
        return failures.fall_back(ctx, due, hint, held, warn=False)
    shared = ctx.connections.refresh_lock(
        provider_name, conn_name, lambda: _settled(ctx, provider_name, conn_name)
    )
    with file_lock(lock), shared:
        conn = ctx.connections.load(provider_name, conn_name)
        _check_usable(conn, hint)
        if not needs_refresh(conn, ctx.clock(), ctx.refresh_margin) and rejected != credential(
            conn
        ):
            return conn  # another process, here or on another machine, refreshed it
        if shared.pending is not None:  # another machine holds newer tokens: never spend ours
            return failures.fall_back(ctx, conn, hint, pending_error(shared.pending, conn.key))
        if not shared.held:
            return conn
        failed = failures.recent(lock, waited_since) or failures.error_of(shared.failure)
        if failed is not None:
            if shared.failure:
                shared.fail(shared.failure)  # pass it on to whoever else waited for it
            return failures.failed(ctx, lock, conn, hint, failed)
        try:
            conn = _refresh(ctx, conn, hint, shared)
        except (NetworkError, FilesystemError) as e:
            doc = failures.doc_of(ctx.clock(), e)
            failures.keep(lock, doc)
            shared.fail(doc)
            return failures.failed(ctx, lock, conn, hint, e)
        failures.clear(lock)
        record(ctx, "refresh", provider_name, conn_name)
        return conn


def _unrefreshable(ctx: Context, conn: Connection, hint: str) -> Connection:
    """A due token without a refresh token: used until it expires."""
    if conn.expires_at <= ctx.clock():
        raise AuthFailed(
            f"the token for {hint} has expired and cannot be refreshed",
            f"run: authsome login {hint} --force",
        )
    return conn


def _settled(ctx: Context, provider_name: str, conn_name: str) -> bool:
    """Whether a process waiting for another machine's refresh can stop: not due any more."""
    conn = ctx.connections.find(provider_name, conn_name)
    if conn is None or conn.status != CONNECTED:
        return True  # logged out or dead meanwhile: the reload under the lock says so
    return not needs_refresh(conn, ctx.clock(), ctx.refresh_margin)


def _check_usable(conn: Connection, hint: str) -> None:
    if conn.status != CONNECTED:
        raise AuthFailed(
            f"the login for {hint} was revoked or expired", f"run: authsome login {hint} --force"
        )


def _refresh(ctx: Context, conn: Connection, hint: str, shared) -> Connection:
    """Trade the refresh token for new tokens and store them; a rotated one is never lost."""
    from authsome.oauth import answer
    from authsome.oauth.tokens import OAuthError, client_credentials, origin, resource_param
    from authsome.services import refreshfail as failures
    from authsome.util.interrupts import deferred

    provider = ctx.provider(conn.provider)
    oauth, token_url = _oauth_of(provider, hint)
    token_origin = origin(token_url)
    _check_may_send(ctx, provider, conn, hint, token_origin)
    # The order matters, because the server spends the old refresh token the moment it answers.
    # 1. Room for the answer is reserved in the journal before anything is sent: a full disk
    #    found now stops a refresh that has changed nothing; found after the answer, it would
    #    lose the login.
    _reserve(ctx, conn, hint)
    base = conn.secrets["refresh_token"]
    secret = conn.secrets.get("client_secret")
    form, auth = client_credentials(conn.client_id, secret, oauth.client_auth)
    data = {"grant_type": "refresh_token", "refresh_token": base, **form, **resource_param(oauth)}
    # Other machines learn which token is being spent, and from where, before it is sent: should
    # the new tokens end up only in this machine's journal, none of them spends it again.
    shared.spend(base)
    # 2. From the request until the commit, SIGINT, SIGTERM and SIGHUP wait: dying in between
    #    would leave the new tokens nowhere and the old ones spent.
    with deferred(ctx.io.say):
        status, body = ctx.http.post_form(token_url, data, auth=auth)
        # 3. The raw answer goes into the reserved journal before it is parsed: should this
        #    process die now, the next command makes the new record from it (oauth/answer.py).
        at = ctx.clock()
        journaled = answer.keep(
            ctx.connections.journal, conn, base, (status, body), at, token_origin
        )
        try:
            tokens = _parse(status, body, at, conn.scopes)
        except OAuthError as e:
            failures.refused(ctx, provider, conn, hint, (status, e), (base, journaled), shared)
        answer.apply(conn, tokens, token_origin, at)
        # 4. The commit names `base`, the token just spent, so that a journal entry kept when
        #    the store cannot be written is recognised and finished by the next command. While
        #    a shared lock is held nobody else can refresh, so the save is retried as long as
        #    the lock stands, counted from now, after the request: a Vault back within that
        #    time loses nobody the login. Kept in the journal, the lock keeps its marker.
        kept = ctx.connections.commit(conn, base, shared.save_budget(), journaled)
        if kept:
            shared.keep_marker()
    _warn_after(ctx, provider, hint, tokens, kept)
    return conn


def _oauth_of(provider, hint: str) -> tuple[OAuthSpec, str]:
    """The provider's OAuth settings and token endpoint; AuthFailed when it has none now (its
    definition was changed since the login, to an api_key one say)."""
    oauth = provider.oauth
    if oauth is None or not oauth.token_url:
        raise AuthFailed(
            f"{provider.display_name} names no token endpoint now, so the login for {hint}"
            " cannot be refreshed",
            f"run: authsome login {hint} --force",
        )
    return oauth, oauth.token_url


def _check_may_send(ctx: Context, provider, conn: Connection, hint: str, token_origin: str) -> None:
    """Raise unless the refresh token may go to `token_origin` and the last save went through."""
    if conn.token_origin and conn.token_origin != token_origin:
        # A provider file (or discovered metadata) that changed must not redirect a live
        # refresh token to another server.
        raise AuthFailed(
            f"the token endpoint of {provider.display_name} moved from {conn.token_origin} to"
            f" {token_origin} since you logged in to {hint}, so authsome will not send it your"
            " refresh token",
            f"if you changed the provider on purpose, run: authsome login {hint} --force",
        )
    if conn.key in ctx.connections.unsaved:
        # The journal holds newer tokens than `conn`: refreshing with the older ones would
        # spend a token the server has already replaced.
        raise FilesystemError(
            f"the newest tokens for {hint} are waiting in the journal because the store cannot"
            " be written",
            "fix the store (authsome doctor), then run the command again",
        )


def _reserve(ctx: Context, conn: Connection, hint: str) -> None:
    """Make sure the journal has room for the refreshed record, or raise FilesystemError."""
    try:
        if ctx.connections.journal is not None:
            ctx.connections.journal.reserve(conn.key, 2 * len(conn.to_json()))
    except OSError as e:
        raise FilesystemError(
            f"cannot keep a new token for {hint} safe in {ctx.home.journal_dir}"
            f" ({e.strerror or type(e).__name__})",
            _fix_for(e),
        ) from None


def _warn_after(ctx: Context, provider, hint: str, tokens, kept: str | None) -> None:
    """Say what the refresh could not do cleanly: fields dropped, tokens only in the journal."""
    if tokens.dropped:
        ctx.io.say(
            f"authsome: warning: {provider.display_name} sent an invalid"
            f" {', '.join(tokens.dropped)} for {hint}; ignored it."
        )
    if kept:
        ctx.io.say(
            f"authsome: warning: could not save the new tokens for {hint}; kept them encrypted"
            f" in {kept}. The next authsome command finishes the save."
        )


def _fix_for(e: OSError) -> str:
    from authsome.util.fsutil import os_fix

    return os_fix(e) or "check the authsome home (authsome doctor)"


def _parse(status, body, at: float, scopes):
    from authsome.oauth.tokens import parse_token_response

    return parse_token_response(status, body, at, scopes)


def credential(conn: Connection) -> str:
    """The value `authsome token` prints: the API key or the access token."""
    return conn.secrets.get("api_key") or conn.secrets["access_token"]
