"""The unlock and lock services behind `authsome unlock` / `authsome lock`."""

from __future__ import annotations

import time

from authsome.session import ENV_SESSION, Session, parse_ttl, remove_expired


def unlock_vault(ctx, ttl_text: str) -> Session | None:
    """Derive the vault key once and seal it in a session; None when no vault is in use."""
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
    ctx.sessions.end(ctx.environ.get(ENV_SESSION, ""))
    session = ctx.sessions.create(store.path, doc.salt, key, ttl)
    until = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.expires_at))
    ctx.say(
        f'Vault unlocked for this shell until {until}. Lock it again with: eval "$(authsome lock)"'
    )
    return session


def lock_vault(ctx) -> bool:
    """Forget this shell's session key file; True when there was one."""
    ended = ctx.sessions.end(ctx.environ.get(ENV_SESSION, ""))
    ctx.say("Vault locked." if ended else "No unlocked session in this shell.")
    return ended
