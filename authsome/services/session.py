"""The unlock and lock services behind `authsome unlock` / `authsome lock`."""

from __future__ import annotations

import time

from authsome.storage.file.sessions import ENV_SESSION, parse_ttl, remove_expired


def unlock_vault(ctx, ttl_text: str, dialect) -> str | None:
    """Derive the vault key once and seal it in a session shared by every shell of this login
    (the kernel keyring). The token for this shell's environment when it cannot be shared;
    None otherwise, or when no vault is in use."""
    ttl = parse_ttl(ttl_text)
    store = ctx.store_choice.store
    if store.name != "file":
        ctx.say(f"authsome: {store.describe()} needs no unlock; nothing to do.")
        return None
    doc = store.read()
    if doc is None:
        ctx.say(f"Creating the encrypted vault {store.path}.")
        doc = store.create()
    key = store.key_for(doc)
    remove_expired(ctx.sessions.folder, ctx.clock())
    replaced = [ctx.environ.get(ENV_SESSION, ""), ctx.sessions.shared_token(store.path) or ""]
    session = ctx.sessions.create(store.path, doc.salt, key, ttl)
    why_not = ctx.sessions.share(session, store.path, ttl)
    until = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.expires_at))
    if why_not is not None:
        ctx.sessions.end(replaced[0])
        ctx.say(
            f"Vault unlocked for this shell only, until {until}: the kernel keyring cannot be"
            f" used here ({why_not}), so other shells ask again (unlock each with:"
            f" {dialect.source('authsome unlock')}). Lock it with: authsome lock"
        )
        return session.token
    for token in replaced:
        ctx.sessions.end(token)
    ctx.say(
        f"Vault unlocked until {until} for every shell of your login (kept in the kernel user"
        " keyring): new terminals will not ask. Lock it with: authsome lock"
    )
    return None


def lock_vault(ctx) -> bool:
    """End the login's unlock and this shell's; True when there was one."""
    shared = ctx.sessions.unshare(ctx.home.vault_file)
    ended_shared = ctx.sessions.end(shared or "")
    ended_here = ctx.sessions.end(ctx.environ.get(ENV_SESSION, ""))
    if ended_shared:
        ctx.say("Vault locked in every shell.")
    else:
        ctx.say("Vault locked." if ended_here else "No unlocked session.")
    return ended_shared or ended_here
