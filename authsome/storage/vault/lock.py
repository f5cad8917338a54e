"""The refresh lock in Vault: one refresh of a connection at a time, across every machine.

A lock is the KV v2 key `<prefix>/.locks/<provider>/<connection>`, and every change to it is a
compare-and-set against the version just read:
- Taking it: write `{"holder": ..., "expires_at": ...}` with `cas` = the version read, where
  the key is missing (version 0), released, or past its expiry. Of two machines that read the
  same version, one write lands and the other gets a conflict and waits: so two waiters can
  never both take over the same stale lock.
- Releasing it: write a released marker with `cas` = the version this holder wrote. If someone
  took the lock over meanwhile, the write fails and their lock stands: a holder never releases
  anyone else's lock.
- Expiry: twice the HTTP deadline (AUTHSOME_HTTP_TIMEOUT) plus MARGIN. Under the lock the
  holder reads the record (one deadline at most) and sends the refresh (one deadline at most),
  so its answer comes back while the lock still stands; only a holder that died leaves a lock
  to expire. Expiry is a wall-clock time, so machines' clocks must agree to within seconds.
- Waiters poll with backoff and jitter, and re-read the record whenever the lock changes hands
  (and at least every RECHECK seconds): when it is fresh they stop waiting and use it. They
  ride out a Vault that fails for up to one HTTP deadline (a Raft election, a restart).
- The holder retries saving the refreshed tokens for as long as its lock stands (save_budget),
  since nobody else can refresh meanwhile; only then are they kept in the local journal.
- A holder whose refresh failed for a passing reason (network, 5xx) says so in its released
  marker; the processes that saw it hold the lock report that failure instead of each trying
  again, as the waiters on one machine do (services/refresh.py).
- Before it sends the refresh token, the holder writes into the lock which token it spends and
  from which machine (`spend`; storage/pending.py). A lock released or expired with that
  marker, while the record still holds that token, is taken only to judge that, and released
  again with the marker (`_judged`): its rotated tokens are in that machine's journal, or were
  lost with a holder that died. `pending` then says so, and the caller hands out the current
  token or an error naming the machine. Two expiries after the token was sent, the marker holds
  nobody back any more (`_handed_over`).
- On a Raft cluster a standby answers reads, and first checks a write's `cas`, from its own
  copy, which trails the leader (client.py sends the index of its last answer, so a process
  reads its own writes). A copy can be behind other machines' writes, though: a take against
  it fails its compare-and-set on the leader, so the marker is judged only once the lock is ours.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import socket
import time

from authsome.errors import AuthsomeError, StoreConflict, StoreDenied, StoreUnavailable
from authsome.storage.base import SAVE_BUDGET

LOCKS = ".locks"
MARGIN = 5.0  # seconds beyond two HTTP deadlines
FIRST_PAUSE, MAX_PAUSE = 0.02, 0.5  # the waiters' backoff
RECHECK = 1.0  # a waiter re-reads the record at least this often


def expiry_for(deadline: float) -> float:
    """How long a lock stands: longer than a read and a refresh, each bounded by `deadline`."""
    return 2 * deadline + MARGIN


class VaultLock:
    """A context manager: `with lock:` waits for the lock (or for `settled()`), then holds it."""

    def __init__(
        self, client, path: str, settled=None, clock=time.time, sleep=time.sleep, marks=None
    ):
        self.client = client
        self.marks = marks  # a storage.pending.PendingSave, or None: no markers
        self.path = f"{LOCKS}/{path}"
        self.ttl = expiry_for(client.deadline)
        self.settled = settled or (lambda: False)
        self.clock, self.sleep = clock, sleep
        self.me = {"host": socket.gethostname(), "pid": os.getpid(), "id": secrets.token_hex(8)}
        self.version: int | None = None  # the version we wrote, while we hold the lock
        self.failure: dict | None = None  # a failed refresh of a holder we waited for
        self._failed: dict | None = None  # our own, left in the released marker
        self._failing_since: float | None = None  # when Vault began to fail our polls
        self.expires_at = self.taken_at = 0.0  # of the lock we hold
        self.pending: dict | None = None  # the marker of a machine holding newer tokens
        self._spending: dict | None = None  # our marker, once we send the refresh token
        self._keep_marker = False  # our new tokens went to the journal: leave the marker

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    @property
    def held(self) -> bool:
        return self.version is not None

    def fail(self, doc: dict) -> None:
        """Leave `doc` (what failed) in the released marker, for the processes that waited."""
        self._failed = {**doc, "by": doc.get("by") or self.me["id"]}

    def acquire(self) -> bool:
        """True once held; False when `settled()` said the refresh is no longer needed."""
        seen: set[str] = set()  # the holders we waited for
        claimed = None  # the lock we last tried to take over: its marker is judged once ours
        last, pause, checked = -1, FIRST_PAUSE, time.monotonic()
        give_up = time.monotonic() + 2 * self.ttl + 2 * self.client.deadline
        while True:
            polled = self._poll()
            if polled is not None:
                doc, version = polled
                if self._free(doc):
                    claimed = doc
                    if self._poll(lambda v=version: self._take(v)):
                        return self._judged(claimed, seen)
                holder = ((doc or {}).get("holder") or {}).get("id")
                if holder == self.me["id"] and not doc.get("released"):
                    # Our own write, which timed out but landed: the lock is ours.
                    self.version, self.expires_at = version, float(doc["expires_at"])
                    self.taken_at = float(doc.get("taken_at") or 0)
                    return self._judged(claimed, seen)
                if holder and not (doc or {}).get("released"):
                    seen.add(str(holder))
                # The caller read the record just before: it is worth reading again once the
                # lock has changed hands, or now and then in case its holder died after the save.
                changed, last = last not in (-1, version), version
                if changed or time.monotonic() - checked >= RECHECK:
                    checked = time.monotonic()
                    if self._poll(self.settled):
                        return False
                pause = FIRST_PAUSE if changed else pause
            if time.monotonic() > give_up:
                raise StoreUnavailable(
                    f"another process kept the refresh lock {self.path} in"
                    f" {self.client.where} for longer than its expiry",
                    "run the command again; if it persists, check the clocks of the machines",
                )
            self.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 1.6, MAX_PAUSE)

    def _judged(self, claimed: dict | None, seen: set[str]) -> bool:
        """Holding the lock: True, or False (released again) when the marker of the lock we
        took over holds us back."""
        # Judged only once taken: the take proved our copy of the lock current, and the record
        # read next includes every write before it. Judged before, on a standby that rejoined
        # (it answers from a copy that can be seconds behind), a marker the record had long
        # since moved past would hold us back.
        try:
            held_back = self._held_back(claimed)
        except BaseException:
            self.release()  # raised from __enter__, so __exit__ would not release it
            raise
        if held_back:
            assert claimed is not None  # held back by its marker
            self._hand_back(claimed["spending"])
            return False
        self.failure = self._failure_of(claimed, seen)
        return True

    def _poll(self, call=None):
        """`call()` (by default: read the lock), or None while Vault fails for a passing reason.

        A waiter rides out a short outage (a Raft election, a restart) as if Vault were slow,
        for up to one HTTP deadline in all; then the error stands."""
        try:
            result = call() if call is not None else self.client.read(self.path)
        except StoreDenied:
            raise  # a token or a policy: waiting will not change it
        except StoreUnavailable:
            now = time.monotonic()
            self._failing_since = self._failing_since or now
            if now - self._failing_since >= self.client.deadline:
                raise
            return None
        self._failing_since = None
        return result

    def _free(self, doc: dict | None) -> bool:
        if not doc or doc.get("released"):
            return True
        try:
            return float(doc["expires_at"]) <= self.clock()
        except (KeyError, TypeError, ValueError):
            return True  # not a lock we understand: as good as none

    def _held_back(self, doc: dict | None) -> bool:
        """Whether a free lock's marker says another machine holds newer tokens (`pending`)."""
        marker = (doc or {}).get("spending")
        if self.marks is None or not isinstance(marker, dict) or self._handed_over(marker):
            return False
        stale = None
        while stale is None:  # a Vault that fails for a passing reason is waited out
            stale = self._poll(lambda: self.marks.stale(marker))
            if stale is None:
                self.sleep(MAX_PAUSE)
        self.pending = None if stale else marker
        return not stale

    def _hand_back(self, marker: dict) -> None:
        """Release the lock we took to judge `marker`, leaving the marker for the others."""
        self._spending, self._keep_marker = marker, True
        self.release()

    def _handed_over(self, marker: dict) -> bool:
        """Whether the marker's grace has run out: two expiries after the token was sent."""
        # A holder whose save failed had its lock's whole expiry to save it, and its machine one
        # more expiry for the next command to finish the journal. After that, a holder that
        # died is the likelier story, and the others go on: the login then works, or is
        # reported as needing a login.
        try:
            return float(marker["at"]) + 2 * self.ttl <= self.clock()
        except (KeyError, TypeError, ValueError):
            return True

    def spend(self, base_refresh_token: str) -> None:
        """Mark the lock before the refresh token is sent; raises (and nothing is sent) when
        Vault does not take the marker, or someone took the lock over."""
        if self.version is None or self.marks is None:
            return
        self._spending = self.marks.mark(base_refresh_token)
        doc = {**self._doc(), "spending": self._spending}
        self.version = self.client.write(self.path, doc, cas=self.version)

    def keep_marker(self) -> None:
        """The new tokens are only in this machine's journal: release leaves the marker."""
        self._keep_marker = True

    def _doc(self) -> dict:
        return {"holder": self.me, "taken_at": self.taken_at, "expires_at": self.expires_at}

    def _take(self, version: int) -> bool:
        now = self.clock()
        doc = {"holder": self.me, "taken_at": now, "expires_at": now + self.ttl}
        try:
            self.version = self.client.write(self.path, doc, cas=version)
        except StoreConflict:
            return False  # another process took it first
        self.taken_at, self.expires_at = now, doc["expires_at"]
        return True

    def save_budget(self) -> float:
        """How long the holder may retry saving the refreshed tokens: while nobody else can
        refresh, that is until one deadline before the lock expires. Asked as the save starts:
        the refresh request before it may have taken a whole deadline."""
        if self.version is None:
            return SAVE_BUDGET
        return max(0.0, self.expires_at - self.clock() - self.client.deadline - 1)

    def _failure_of(self, doc: dict | None, seen: set[str]) -> dict | None:
        """The failure of a refresh by a holder we waited for, passed on in the marker."""
        doc = doc or {}
        failed = doc.get("failed")
        if not doc.get("released") or not isinstance(failed, dict):
            return None
        return failed if failed.get("by") in seen else None

    def release(self) -> None:
        """Mark the lock released, unless someone took it over; never raises."""
        if self.version is None:
            return
        doc = {"holder": self.me, "released": True, "at": self.clock()}
        if self._failed is not None:
            doc["failed"] = self._failed
        if self._keep_marker and self._spending is not None:
            doc["spending"] = self._spending
        # A lock left behind (Vault unreachable now) expires; what the refresh did stands.
        with contextlib.suppress(AuthsomeError):
            self.client.write(self.path, doc, cas=self.version)
        self.version = None
