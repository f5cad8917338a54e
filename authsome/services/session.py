"""The unlock and lock services behind `authsome unlock` / `authsome lock`."""

from __future__ import annotations

import re
import time

from authsome.errors import UsageError
from authsome.storage.file.sessions import ENV_SESSION

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

__all__ = ["DEFAULT_TTL", "ENV_SESSION", "lock_vault", "parse_ttl", "unlock_vault"]

DEFAULT_TTL = "8h"  # `unlock --ttl`'s default, as typed; parse_ttl gives its seconds
MAX_TTL = 7 * 86400  # a session file is a key to the vault for as long as it lives
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """'90', '30m', '8h', '1d' -> seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text or "")
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"--ttl {text!r} is not a duration", "use a form like 30m, 8h or 1d")
    seconds = int(m.group(1)) * _UNITS[m.group(2) or "s"]
    if seconds > MAX_TTL:
        raise UsageError(f"--ttl {text!r} is longer than 7 days", "use 7d or less")
    return seconds


def unlock_vault(ctx: Context, ttl_text: str, dialect) -> str | None:
    """Open the store for every shell of this login; this shell's token when it cannot share."""
    # The vault key is derived once and sealed in a session that the kernel keyring shares.
    # None when the session is shared, or when the store in use needs no unlock.
    ttl = parse_ttl(ttl_text)
    store = ctx.store_choice.store
    if not store.can_unlock:
        ctx.io.say(f"authsome: {store.describe()} needs no unlock; nothing to do.")
        return None
    session = store.status()
    if str(session.get("session", "")).startswith("unlocked"):
        # Extending it would need no passphrase: a stolen shell could keep the vault open.
        ends = session.get("session_expires_at")
        until = time.strftime(" until %Y-%m-%d %H:%M", time.localtime(ends)) if ends else ""
        ctx.io.say(
            f"authsome: the encrypted file is already {session['session']}{until}; nothing changed."
            " For another --ttl: authsome lock, then unlock again"
        )
        # This shell's own session stays exported as it is; the login's needs nothing here.
        return ctx.environ.get(ENV_SESSION) if session["session"].endswith("this shell") else None
    unlocked = store.unlock(ttl, ctx.io.say)
    if unlocked.displaced_owner is not None:
        ctx.io.say(_displaced(unlocked.displaced_owner))
    until = time.strftime("%Y-%m-%d %H:%M", time.localtime(unlocked.expires_at))
    if unlocked.not_shared_because is not None:
        ctx.io.say(
            f"The encrypted file is unlocked for this shell only, until {until}: the kernel"
            f" keyring cannot be used here ({unlocked.not_shared_because}), so other shells ask"
            f" again (unlock each with: {dialect.source('authsome unlock')})."
            " Lock it with: authsome lock"
        )
        return unlocked.token
    ctx.io.say(
        f"The encrypted file is unlocked until {until} for every shell of your login (kept in"
        " the kernel user keyring): new terminals will not ask. Lock it with: authsome lock"
    )
    return None


def _displaced(uid: int) -> str:
    """One line: another uid had put a key of our unlock's name in the kernel user keyring."""
    who = f"uid {uid}" if uid >= 0 else "another user"
    return (
        f"authsome: {who} had put a key named like this unlock's in your kernel keyring, through"
        " a session keyring it shares with you (as after sudo -u); it was replaced, but that"
        " user can remove or replace it again. End that user's processes started from this"
        " login, or set AUTHSOME_KEYRING=0 to unlock each shell on its own."
    )


def lock_vault(ctx: Context) -> bool:
    """End every unlock of the vault (the login's, each shell's); True when there was one."""
    # The vault's sessions end whichever store is chosen: locking never waits on a keychain.
    ended_shared, ended_here = ctx.vault.lock()
    if ended_shared:
        ctx.io.say("The encrypted file is locked in every shell.")
    else:
        ctx.io.say("The encrypted file is locked." if ended_here else "No unlocked session.")
    return ended_shared or ended_here
