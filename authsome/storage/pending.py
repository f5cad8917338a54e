"""The marker a refresh leaves in a shared lock while the tokens it rotated may be elsewhere.

Before a holder of the Vault lock sends the refresh token, it writes into the lock which token
it is about to spend (by fingerprint, never the token), and from which machine. Saved in
Vault, the record moves past that token and the marker means nothing any more. If the new
tokens went to that machine's journal instead (Vault did not answer), or the holder died
mid-refresh, the record still holds the spent token: the marker then stops every other machine
from sending it, which would make a provider with reuse detection revoke the login. The machine
named finishes the save from its journal on its next command, or, holding none, refreshes.
"""

from __future__ import annotations

import hashlib
import socket
import time

from authsome.errors import StoreUnavailable
from authsome.storage.base import split_key
from authsome.storage.connection import display_ref
from authsome.storage.journal import fingerprint


class PendingSave:
    """What `storage/vault/lock.py` asks about one connection's marker."""

    def __init__(self, connections, key: str):
        self.connections, self.key = connections, key
        folder = connections.journal.folder if connections.journal is not None else ""
        self.host = socket.gethostname()
        # Which authsome home on which host: the one whose journal would hold the tokens.
        self.machine = hashlib.sha256(f"{self.host}\0{folder}".encode()).hexdigest()[:16]

    def mark(self, base_refresh_token: str) -> dict:
        """The marker for a refresh that spends `base_refresh_token`."""
        base = fingerprint(base_refresh_token)
        return {"host": self.host, "machine": self.machine, "base": base, "at": time.time()}

    def stale(self, marker: dict) -> bool:
        """Whether `marker` holds nobody back: the record moved past its token, or this is the
        machine named and its journal has nothing for the connection (its refresh died)."""
        token = self.connections.stored_refresh_token(self.key)
        if token is None or fingerprint(token) != marker.get("base"):
            return True
        journal = self.connections.journal
        return marker.get("machine") == self.machine and not (journal and journal.has(self.key))


def pending_error(marker: dict, key: str) -> StoreUnavailable:
    """The one-line error for a connection whose newest tokens another machine holds."""
    ref = display_ref(*split_key(key))
    host = str(marker.get("host") or "another machine")[:100]
    return StoreUnavailable(
        f"the newest tokens for {ref} are on {host}, which refreshed them while Vault did not"
        " answer; sending the old refresh token from here could get the login revoked",
        f"run: authsome token {ref} on {host}, which stores them in Vault; if that machine is"
        f" gone, run: authsome login {ref} --force",
    )
