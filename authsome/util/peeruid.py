"""Which local user is at the other end of a loopback TCP connection.

Only Linux can tell, from /proc/net/tcp and tcp6 (authsome.util._peer_linux). macOS and Windows
have no unprivileged way to ask: there `peer_uid` returns UNKNOWN_PLATFORM and callers accept
the connection, as the README's security section says.
"""

from __future__ import annotations

import sys

UNKNOWN_PLATFORM = -1  # this platform cannot tell; not the same as "not found" (None)


def can_check() -> bool:
    """True where the owner of a connection can be looked up."""
    return sys.platform.startswith("linux")


def peer_uid(local: tuple, remote: tuple) -> int | None:
    """The uid owning the socket at `remote` connected to our `local` (address, port).

    None when it cannot be found (a closed or unknown socket); UNKNOWN_PLATFORM where the
    platform cannot tell at all.
    """
    if not can_check():
        return UNKNOWN_PLATFORM
    from authsome.util._peer_linux import socket_uid

    return socket_uid(local=remote, remote=local)
