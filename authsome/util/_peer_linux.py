"""Linux: the owner of a TCP socket, from /proc/net/tcp and /proc/net/tcp6.

Each line there is one socket: its local and remote address:port (hex, in host byte order),
its state, and the uid that owns it.
"""

from __future__ import annotations

import ipaddress
import sys

TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
TIME_WAIT = "06"  # a closed socket's leftover: the kernel shows it as uid 0, whoever owned it


def _address(text: str) -> tuple[ipaddress._BaseAddress, int]:
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    # The kernel prints each 32-bit word in host byte order.
    words = b"".join(
        int.from_bytes(raw[i : i + 4], sys.byteorder).to_bytes(4, "big")
        for i in range(0, len(raw), 4)
    )
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address, int(port, 16)


def _normal(endpoint: tuple) -> tuple[ipaddress._BaseAddress, int]:
    address = ipaddress.ip_address(endpoint[0].split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address, int(endpoint[1])


def socket_uid(local: tuple, remote: tuple) -> int | None:
    """The uid of the live socket whose own end is `local` and whose peer is `remote`."""
    want = (_normal(local), _normal(remote))
    for table in TABLES:
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)  # the header
                for line in f:
                    fields = line.split()
                    if len(fields) < 8 or fields[3] == TIME_WAIT:
                        continue
                    try:
                        found = (_address(fields[1]), _address(fields[2]))
                    except ValueError:
                        continue
                    if found == want:
                        return int(fields[7])
        except OSError:
            continue
    return None
