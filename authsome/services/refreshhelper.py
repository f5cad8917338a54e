"""A refresh run in a helper process, so that killing the command cannot lose the login.

Between the provider receiving the refresh request and the new tokens being stored, the old
refresh token is spent and the new one lives only in memory. SIGINT, SIGTERM and SIGHUP wait
for the save (util/interrupts.py); SIGKILL cannot be made to wait. So the whole single flight
(its locks, the request, the save) runs in a helper (util/detach.py) that the command waits
on: killed, the command leaves it to finish the save and release the locks it took.
"""

from __future__ import annotations

import os

from authsome import errors
from authsome.storage.base import make_key
from authsome.storage.connections import Connection

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def usable(ctx: Context) -> bool:
    """Whether to refresh in a helper: a store outside this process, and a fork is possible."""
    from authsome.util import detach

    if not ctx.refresh_in_helper or ctx.connections.store.in_process:
        return False
    return detach.possible()


def run(ctx: Context, provider_name: str, conn_name: str, hint: str, single_flight) -> Connection:
    """`single_flight()`'s connection, computed in a helper; its errors raised here."""
    from authsome.util import detach

    got: dict = {}
    asker = (os.getpid(), os.getppid())  # whom the helper's audit lines name

    def work(send):
        _work(ctx, send, single_flight, asker)

    if not detach.run(work, lambda doc: _receive(ctx, doc, got)):
        return single_flight()
    if "conn" in got:
        return Connection.from_json(make_key(provider_name, conn_name), got["conn"])
    if "error" in got:
        name, what, fix = got["error"]
        kind = getattr(errors, str(name), None)
        if not (isinstance(kind, type) and issubclass(kind, errors.AuthsomeError)):
            kind = errors.AuthsomeError
        raise kind(what, fix)
    if "bug" in got:
        raise RuntimeError(f"the refresh helper failed:\n{got['bug']}")
    raise errors.Cancelled(
        f"the refresh of {hint} stopped: its helper process was killed",
        "run the command again",
    )


def _work(ctx: Context, send, single_flight, asker: tuple[int, int]) -> None:
    """The helper's part: what people are told, and the outcome, go back over the pipe."""
    from authsome.services import audit

    audit.on_behalf_of(*asker)
    ctx.leave_connections()

    def say(message: str) -> None:
        send({"say": message})

    ctx.io.say = say  # type: ignore[method-assign]  # what the helper says, the parent says
    ctx.connections.warn = lambda text: send({"warn": text})
    try:
        conn = single_flight()
    except errors.AuthsomeError as e:
        send({"error": [type(e).__name__, e.what, e.fix]})
    else:
        send({"conn": conn.to_json()})


def _receive(ctx: Context, doc: dict, got: dict) -> None:
    if "say" in doc:
        ctx.io.say(str(doc["say"]))
    elif "warn" in doc:
        ctx.connections.warn(str(doc["warn"]))
    else:
        got.update(doc)
