"""The unlock and lock services behind `authsome unlock` / `authsome lock`."""

from __future__ import annotations

import time

from authsome.storage.file.sessions import ENV_SESSION, parse_ttl

__all__ = ["ENV_SESSION", "lock_vault", "unlock_vault"]


def unlock_vault(ctx, ttl_text: str, dialect) -> str | None:
    """Open the store for every shell of this login; this shell's token when it cannot share."""
    # The vault key is derived once and sealed in a session that the kernel keyring shares.
    # None when the session is shared, or when the store in use needs no unlock.
    ttl = parse_ttl(ttl_text)
    store = ctx.store_choice.store
    if not store.can_unlock:
        ctx.say(f"authsome: {store.describe()} needs no unlock; nothing to do.")
        return None
    unlocked = store.unlock(ttl, ctx.say)
    until = time.strftime("%Y-%m-%d %H:%M", time.localtime(unlocked.expires_at))
    if unlocked.not_shared_because is not None:
        ctx.say(
            f"Vault unlocked for this shell only, until {until}: the kernel keyring cannot be"
            f" used here ({unlocked.not_shared_because}), so other shells ask again (unlock each"
            f" with: {dialect.source('authsome unlock')}). Lock it with: authsome lock"
        )
        return unlocked.token
    ctx.say(
        f"Vault unlocked until {until} for every shell of your login (kept in the kernel user"
        " keyring): new terminals will not ask. Lock it with: authsome lock"
    )
    return None


def lock_vault(ctx) -> bool:
    """End the login's unlock and this shell's; True when there was one."""
    # The vault's sessions end whichever store is chosen: locking never waits on a keychain.
    ended_shared, ended_here = ctx.vault.lock()
    if ended_shared:
        ctx.say("Vault locked in every shell.")
    else:
        ctx.say("Vault locked." if ended_here else "No unlocked session.")
    return ended_shared or ended_here
