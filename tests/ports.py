"""Loopback ports for servers that must be told theirs before they start.

A server that can bind port 0 and say which port it got does so (the test OAuth, TLS and proxy
servers, node-oidc-provider, `kubectl proxy`, Xvfb's -displayfd). bao cannot say (it logs
"Api Address: http://127.0.0.1:0"), Raft nodes must know each other's addresses before they
start, and Chromium's debugging port is read by selenium; for those a port is reserved rather
than picked by bind-then-release, which can hand one port to two test workers at once.

A reserved port was bound (atomically: without SO_REUSEADDR), connected to once and closed by
its own side first, so it sits in TIME_WAIT. For a minute the kernel then gives it to no bind(0)
and no connect() of any process, and a plain bind() of it fails; a server that sets SO_REUSEADDR
(Go's, Node's and Python's servers, Chromium) can still listen on it. Nothing listens on it
until then, so a connection to it is refused.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def reserve(port: int = 0) -> int:
    """Reserve `port` (0: one the kernel picks) and return it; OSError if anything holds it."""
    with socket.socket() as server:
        server.bind((LOOPBACK, port))  # without SO_REUSEADDR: fails if anything holds it
        # Set after the bind, for the TIME_WAIT socket to inherit: a server's SO_REUSEADDR
        # bind passes a TIME_WAIT socket only if that one has it too.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.listen(1)
        port = server.getsockname()[1]
        with socket.create_connection((LOOPBACK, port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # this side closes first: the TIME_WAIT is on `port`
            client.recv(1)  # the close has arrived
    return port


def reserve_run(count: int) -> int:
    """The first of `count` consecutive reserved ports (bao's dev server takes API port + 1)."""
    for _ in range(100):
        first = reserve()
        try:
            for i in range(1, count):
                reserve(first + i)
        except (OSError, OverflowError):
            continue  # taken, or past 65535: the reserved ones simply lapse
        return first
    raise RuntimeError(f"no {count} consecutive free loopback ports")
