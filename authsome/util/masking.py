"""Conceal secrets in a byte stream that arrives in pieces: `run`'s masked output.

feed() returns what may be shown now and holds back the shortest end of the stream that
could still begin a secret, so a secret split between two reads is concealed whole. What
cannot begin a secret is never held: a prompt without a newline shows at once. The caller
flushes a held piece when the stream goes idle (hold_time() says how long to wait) or ends;
the bytes shown since the last concealed secret are remembered, so if the rest of a secret
follows a flushed piece, the rest is still concealed.
"""

from __future__ import annotations

MASK = b"<concealed by authsome>"
# Shorter values are not credentials anyone issues, and concealing them would garble output.
MIN_SECRET = 6
# A held piece this long or longer is most likely the secret being written: it waits longer.
LONG_PIECE = 4
SHORT_HOLD, LONG_HOLD = 0.02, 1.0  # seconds of quiet before a held piece is shown


class Masker:
    """One output stream's state: feed() its reads in order, flush() when it is idle or ends."""

    def __init__(self, secrets, mask: bytes = MASK):
        found = {s.encode() if isinstance(s, str) else s for s in secrets}
        self.secrets = sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)
        self.mask = mask
        self.keep = len(self.secrets[0]) - 1 if self.secrets else 0
        self._shown = b""  # raw bytes shown since the last concealed secret (its last `keep`)
        self._held = b""  # raw bytes not shown yet: they may begin a secret
        self._piece = 0  # length of the held piece of a secret, counting shown bytes

    def feed(self, data: bytes) -> bytes:
        """What of the stream so far may be shown now, secrets concealed."""
        if not self.secrets:
            return data
        if not self._held and len(data) > self.keep and self._clean(data):
            # The usual read: no secret in it or begun before it; nothing is copied.
            hold = self._piece_at(data, 0)
            self._piece = len(data) - hold
            self._held, self._shown = data[hold:], data[max(0, hold - self.keep) : hold]
            return data[:hold]
        buf = self._shown + self._held + data if (self._shown or self._held) else data
        pos = start = len(self._shown)  # buf[:start] was shown already
        # Before `hold` every secret that begins is whole in buf; from it on one may be cut.
        hold, last, out = self._piece_at(buf, 0), 0, []
        for begin, end in self._matches(buf):
            if begin >= hold:
                break
            if end <= start:
                continue
            if begin > pos:
                out.append(buf[pos:begin])
            out.append(self.mask)
            pos = last = end
            if end > hold:
                hold = self._piece_at(buf, end)
        self._piece = len(buf) - hold
        cut = max(hold, pos)
        out.append(buf[pos:cut])
        self._held = buf[cut:]
        self._shown = buf[max(last, cut - self.keep) : cut]
        return b"".join(out)

    def flush(self) -> bytes:
        """Show what is held: the stream went quiet, or ended."""
        held, self._held = self._held, b""
        self._shown = (self._shown + held)[-self.keep :] if self.keep else b""
        self._piece = 0
        return held

    def hold_time(self) -> float | None:
        """Seconds of quiet after which flush() should be called; None when nothing is held."""
        if not self._held:
            return None
        return LONG_HOLD if self._piece >= LONG_PIECE else SHORT_HOLD

    def _clean(self, data: bytes) -> bool:
        """Whether no secret occurs in `data`, nor begins in what was shown and ends in it."""
        edge = self._shown + data[: self.keep]
        return not any(s in data or s in edge for s in self.secrets)

    def _matches(self, buf: bytes) -> list[tuple[int, int]]:
        """Where secrets occur in `buf`: leftmost first, the longest at one place, none
        overlapping. One bytes.find per secret: faster than a regex alternation here
        (benchmarks/masking.py measures both)."""
        found = []
        for secret in self.secrets:
            i = buf.find(secret)
            while i >= 0:
                found.append((i, i + len(secret)))
                i = buf.find(secret, i + 1)
        if len(found) < 2:
            return found
        found.sort(key=lambda m: (m[0], -m[1]))
        kept, end = [], -1
        for m in found:
            if m[0] >= end:
                kept.append(m)
                end = m[1]
        return kept

    def _piece_at(self, buf: bytes, low: int) -> int:
        """Where the longest end of `buf` (from `low` on) that begins a secret starts;
        len(buf) when no end of it does."""
        size, best = len(buf), len(buf)
        for secret in self.secrets:
            first = secret[:1]
            i = buf.find(first, max(low, size - len(secret) + 1), best)
            while i >= 0:
                if secret.startswith(buf[i:]):
                    best = i
                    break
                i = buf.find(first, i + 1, best)
        return best
