"""When a token is refreshed: the margin rule and the refresh policy, on a fake clock.

Nothing here sleeps. The processes racing for one refresh are tested for real in
tests/test_tokens.py and tests/test_reliability.py.
"""

import pytest
from memorystore import MemoryStore

from authsome import settings
from authsome.errors import AuthFailed, NetworkError
from authsome.factory import Context
from authsome.services import login, refresh
from authsome.storage.base import NoSharedLock
from authsome.storage.connections import Connection, effective_margin

T0 = 1_000_000.0
MARGIN = settings.DEFAULT_REFRESH_MARGIN  # 300 s


class FakeClock:
    """The time, moved only by the test; `sleep` (device-code polling) moves it too."""

    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(
    "lifetime,margin,expected",
    [
        (3600, 400, 400),  # long-lived: the configured margin
        (800, 400, 400),  # exactly twice the margin: still the margin
        (600, 400, 300),  # shorter than twice the margin: half the lifetime
        (2, 400, 1),  # a 2-second token is due after 1 s, not on every call
        (3600, 0, 0),  # AUTHSOME_REFRESH_MARGIN=0: only once expired
    ],
)
def test_the_margin_is_capped_at_half_the_lifetime(lifetime, margin, expected):
    assert effective_margin(T0 + lifetime, T0, margin) == expected


def test_a_lifetime_that_is_unknown_or_not_positive_keeps_the_margin():
    assert effective_margin(T0 + 10, None, MARGIN) == MARGIN  # never saved: lifetime unknown
    assert effective_margin(T0, T0, MARGIN) == MARGIN
    assert effective_margin(T0 - 5, T0, MARGIN) == MARGIN  # saved after it expired


def _conn(lifetime: float | None, updated_at: float = T0) -> Connection:
    return Connection(
        "testsrv",
        "default",
        "oauth2",
        "device_code",
        {"access_token": "a", "refresh_token": "r"},
        expires_at=None if lifetime is None else updated_at + lifetime,
        updated_at=int(updated_at),
    )


@pytest.mark.parametrize(
    "lifetime,elapsed,due",
    [
        (3600, 0, False),
        (3600, 3299, False),  # 301 s left: outside the margin
        (3600, 3300, True),  # 300 s left: the margin is inclusive
        (3600, 5000, True),  # expired
        (2, 0.99, False),
        (2, 1.0, True),  # half the life of a short token
        (400, 199, False),  # shorter than twice the margin: due at half its life
        (400, 200, True),
    ],
)
def test_needs_refresh_on_a_fake_clock(lifetime, elapsed, due):
    clock = FakeClock()
    conn = _conn(lifetime)
    clock.now += elapsed
    assert refresh.needs_refresh(conn, clock(), MARGIN) is due


def test_a_token_without_expiry_is_never_refreshed():
    assert refresh.needs_refresh(_conn(None), T0 + 10**9, MARGIN) is False


# The policy through refresh.fresh, in process, against the local OAuth server.


@pytest.fixture
def clock():
    return FakeClock()


def _logged_in(env, clock) -> Context:
    """A Context on the fake clock with a memory store, logged in to testsrv by device code."""
    ctx = Context(env, clock=clock, sleep=clock.sleep, store=MemoryStore())
    login.login(ctx, "testsrv", open_browser=False)
    return ctx


def _refreshes(server) -> int:
    return server.state.count("/token", "refresh_token")


@pytest.mark.parametrize("lifetime,due_after", [(3600, 3600 - MARGIN), (2, 1)])
def test_fresh_refreshes_at_the_margin_and_not_before(testsrv, clock, env, lifetime, due_after):
    testsrv.state.access_expires_in = lifetime
    ctx = _logged_in(env, clock)
    start = clock.now
    clock.now = start + due_after - 0.5
    before = refresh.fresh(ctx, "testsrv").secrets["access_token"]
    assert _refreshes(testsrv) == 0
    clock.now = start + due_after
    after = refresh.fresh(ctx, "testsrv")
    assert _refreshes(testsrv) == 1
    assert after.secrets["access_token"] != before
    assert after.expires_at == int(clock.now) + lifetime  # whole seconds, as stored
    # Just refreshed: the next call is outside the margin again.
    refresh.fresh(ctx, "testsrv")
    assert _refreshes(testsrv) == 1


def test_each_refresh_uses_the_rotated_refresh_token(testsrv, clock, env):
    testsrv.state.access_expires_in = 2
    ctx = _logged_in(env, clock)
    seen = set()
    for _ in range(3):
        clock.now += 1.2
        conn = refresh.fresh(ctx, "testsrv")
        seen.add(conn.secrets["refresh_token"])
    # Reusing a spent refresh token would have revoked the family (tests/oauth_server.py).
    assert _refreshes(testsrv) == 3 and len(seen) == 3
    assert not testsrv.state.revoked_families


def test_a_due_token_is_handed_out_when_the_refresh_fails(testsrv, clock, env):
    testsrv.state.access_expires_in = 6
    ctx = _logged_in(env, clock)
    said = []
    ctx.io.say = said.append
    token = refresh.fresh(ctx, "testsrv").secrets["access_token"]
    testsrv.state.refresh_failure = (503, "text/html", "<html>down</html>")
    clock.now += 3.2  # past half its life: due, not expired
    assert refresh.fresh(ctx, "testsrv").secrets["access_token"] == token
    assert said[-1].endswith("using the current token, which expires in 2 s.")
    clock.now += 2.8  # now expired: nothing left to hand out
    with pytest.raises(NetworkError, match="could not refresh the token for testsrv"):
        refresh.fresh(ctx, "testsrv")
    assert _refreshes(testsrv) == 2


def test_an_expired_token_without_a_refresh_token_asks_for_a_login(testsrv, clock, env):
    testsrv.state.access_expires_in = 100
    ctx = _logged_in(env, clock)
    conn = ctx.connections.load("testsrv")
    del conn.secrets["refresh_token"]
    ctx.connections.save(conn)
    clock.now += 99  # due, but still valid: handed out as it is
    assert refresh.fresh(ctx, "testsrv").secrets["access_token"] == conn.secrets["access_token"]
    clock.now += 1
    with pytest.raises(AuthFailed, match="has expired and cannot be refreshed"):
        refresh.fresh(ctx, "testsrv")
    assert _refreshes(testsrv) == 0


class RecordingLock(NoSharedLock):
    """A shared store's lock, as refresh sees it: records when each of its calls comes."""

    def __init__(self, server, log):
        self.server, self.log = server, log

    def spend(self, base_refresh_token):
        self.log.append(("spend", _refreshes(self.server)))

    def save_budget(self):
        self.log.append(("save_budget", _refreshes(self.server)))
        return 0.0


class SharedMemoryStore(MemoryStore):
    shared = True

    def __init__(self, lock):
        super().__init__()
        self.lock = lock

    def refresh_lock(self, key, settled, marks):
        return self.lock


def test_the_save_budget_is_asked_for_after_the_refresh_request(testsrv, clock, env):
    """Review r5: the provider call may take a whole HTTP deadline, so the time left for the
    save is counted when the save starts; the marker is written before the token is sent."""
    testsrv.state.access_expires_in = 2
    log: list[tuple[str, int]] = []
    store = SharedMemoryStore(RecordingLock(testsrv, log))
    ctx = Context(env, clock=clock, sleep=clock.sleep, store=store)
    login.login(ctx, "testsrv", open_browser=False)
    clock.now += 1.2
    refresh.fresh(ctx, "testsrv")
    assert log == [("spend", 0), ("save_budget", 1)]
