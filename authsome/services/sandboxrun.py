"""`authsome run --proxy --sandbox`: the proxied child in a sandbox that hides whatever
would open its credentials, with the proxy as its only way out (authsome.sandbox)."""

from __future__ import annotations

import os
import threading

from authsome.errors import UsageError
from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT


class Sandbox(Frozen):
    """What the user asked of the sandbox: more paths to hide; the ssh agent passed in."""

    __slots__ = ("hide", "ssh_agent")
    _defaults = {"hide": (), "ssh_agent": False}

    if TYPE_CHECKING:
        hide: tuple[str, ...] = DEFAULT
        ssh_agent: bool = DEFAULT


def require_sandbox(environ) -> None:
    """Raise SandboxUnavailable when no sandbox can be had here at all (not Linux, no bwrap)."""
    from authsome.errors import SandboxUnavailable
    from authsome.sandbox.checks import unavailable

    why = unavailable(environ)
    if why:
        raise SandboxUnavailable(*why)


def run_sandboxed(ctx, proxy, command, environ, folder: str, bundle: str, sandbox, signals) -> int:
    """Run `command` in the sandbox, its connections served by `proxy`; its exit status."""
    from authsome import settings
    from authsome.sandbox import hidden, runner
    from authsome.services.childenv import not_runnable
    from authsome.storage.file.sessions import sessions_folder

    home = ctx.home.path
    sessions = sessions_folder(settings.runtime_dir(ctx.environ), home)
    paths = hidden.openers(ctx.environ, os.getuid(), home, sessions, sandbox.ssh_agent)
    mounts = hidden.existing([*paths, folder, *sandbox.hide])
    inside = hidden.hides(os.getcwd(), mounts)
    if inside:
        raise UsageError(
            f"the current folder is inside {inside}, which the sandbox hides",
            "run from another folder",
        )
    proxy.stop()  # its port is the sandbox's now, where the forwarder hands connections over

    def take(sock) -> None:
        threading.Thread(target=proxy.take, args=(sock,), daemon=True).start()

    child_environ = hidden.environ_for(environ, sandbox.ssh_agent)
    try:
        return runner.run(command, child_environ, mounts, [bundle], proxy.port, take, signals)
    except (FileNotFoundError, PermissionError) as e:
        raise not_runnable(command, e) from None
