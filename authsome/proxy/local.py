"""Connections a sandboxed command's proxy will not open for it: to this machine itself.

Outside the sandbox the command reaches no loopback service directly (its network namespace
has none), so a blind tunnel through the proxy must not take it there either: not to
127.0.0.0/8 or ::1 (a database, a browser's debugging port, another run's proxy), not to the
unspecified address, which means this machine too, and not to link-local addresses (the cloud
metadata service at 169.254.169.254 hands out the machine's credentials). Named provider hosts
are not tunnelled, so they are not checked here.
"""

from __future__ import annotations

import errno
import ipaddress
import socket


def _local(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified


def dial_away(address: tuple[str, int], timeout=None) -> socket.socket:
    """socket.create_connection, refusing (EACCES) a host that resolves to this machine or a
    link-local address. Resolved once, so a name cannot change its answer in between."""
    host, port = address
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if any(_local(str(sockaddr[0])) for *_, sockaddr in found):
        raise OSError(errno.EACCES, "this machine's own or a link-local address, kept from the"
                      " sandbox")  # fmt: skip
    last = None
    for family, kind, proto, _, sockaddr in found:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            last = e
    raise last or OSError(errno.EHOSTUNREACH, "no address")
