"""This user's own D-Bus session bus, and whoever holds the Secret Service name on it.

A secret goes only to a bus and a Secret Service of this user's own: the socket must be ours,
in a folder no one else can write to; the daemon at its other end must run as us (SO_PEERCRED,
where the platform has it); and so must whoever holds org.freedesktop.secrets on it.
"""

from __future__ import annotations

import os
import stat

from authsome.settings import not_own_problem

BUS_NAME = "org.freedesktop.secrets"


class Untrusted(Exception):
    """The bus or the Secret Service on it belongs to another user."""


def session_bus_address(environ: dict[str, str]) -> tuple[str | None, str]:
    """The session bus address to use, or None with the reason; never launches a bus."""
    # Raises Untrusted when the socket is another user's or sits in a folder others can write.
    addr = environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if addr:
        for part in addr.split(";"):
            transport, _, rest = part.partition(":")
            if transport != "unix":
                continue
            keys = dict(kv.partition("=")[::2] for kv in rest.split(",") if kv)
            if "path" in keys:
                path = _unescape(keys["path"])
                _check_socket(path, "DBUS_SESSION_BUS_ADDRESS")
                return f"unix:path={path}", "DBUS_SESSION_BUS_ADDRESS"
            if "abstract" in keys:  # no file to check: the daemon's uid is checked instead
                name = _unescape(keys["abstract"])
                return f"unix:abstract={name}", "DBUS_SESSION_BUS_ADDRESS"
        transport = addr.split(":", 1)[0]
        return None, f"DBUS_SESSION_BUS_ADDRESS uses the {transport!r} transport, not followed"
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        path = os.path.join(runtime, "bus")
        try:
            is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
        except OSError:
            is_socket = False
        if is_socket:
            _check_socket(path, "$XDG_RUNTIME_DIR/bus")
            return f"unix:path={path}", "$XDG_RUNTIME_DIR/bus"
    return None, "no D-Bus session"


def _unescape(value: str) -> str:
    """A D-Bus address value with its %XX escapes decoded."""
    if "%" not in value:  # the usual case: urllib.parse (and ipaddress) stay unimported
        return value
    from urllib.parse import unquote

    return unquote(value)


def _check_socket(path: str, where: str) -> None:
    """The socket must be ours, in a folder only we (or root) can change."""
    if not os.path.lexists(path):
        return  # nothing there: connecting fails and says so
    # Plain strings, not pathlib: `token` and `env` from the keychain need pathlib nowhere else.
    folder = os.path.dirname(os.path.realpath(path))
    problem = not_own_problem(path, 0) or not_own_problem(folder, 0o022)
    if problem:
        raise Untrusted(f"the D-Bus socket ({where}) is not safe to use: {problem}")


def _peer_uid(conn) -> int | None:
    """The uid of the process at the other end of the bus socket, where the OS tells."""
    import socket  # here, not at the top: the probe runs on every `token`, mostly with no bus
    import struct

    option = getattr(socket, "SO_PEERCRED", None)
    sock = getattr(conn, "sock", None)
    if option is None or sock is None:
        return None
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, option, 12))
    return uid


def _check_daemon(conn, where: str) -> None:
    uid = _peer_uid(conn)
    if uid is not None and uid != os.getuid():
        raise Untrusted(
            f"the D-Bus session bus ({where}) is run by uid {uid}, not by you (uid {os.getuid()})"
        )


def secrets_owner(conn) -> int | None:
    """The uid that holds org.freedesktop.secrets on the bus; None when no one does."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    reply = conn.send_and_get_reply(
        new_method_call(bus, "GetConnectionUnixUser", "s", (BUS_NAME,)), timeout=1.0
    )
    try:
        return int(unwrap_msg(reply)[0])
    except DBusErrorResponse as e:
        if e.name == "org.freedesktop.DBus.Error.NameHasNoOwner":
            return None
        raise


def secrets_holder(conn) -> str | None:
    """The unique name holding the Secret Service, checked to run as us; None when unowned.

    Calls go to this name rather than to org.freedesktop.secrets: unique names are never
    reused on a bus, so no one can take the service's place between the check and the calls."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    try:
        (owner,) = unwrap_msg(
            conn.send_and_get_reply(
                new_method_call(bus, "GetNameOwner", "s", (BUS_NAME,)), timeout=1.0
            )
        )
    except DBusErrorResponse as e:
        if e.name == "org.freedesktop.DBus.Error.NameHasNoOwner":
            return None
        raise
    (uid,) = unwrap_msg(
        conn.send_and_get_reply(
            new_method_call(bus, "GetConnectionUnixUser", "s", (owner,)), timeout=1.0
        )
    )
    check_owner(int(uid))
    return owner


# The probe's checked connection, and the holder it found, left for the read that follows in
# the same process (`token`: probe, then read): that read skips connecting, authenticating and
# finding the holder again. Taken once; a probe that finds no holder leaves nothing.
_spare: dict[str, tuple] = {}


def leave(address: str, conn, holder: str) -> None:
    old = _spare.pop(address, None)
    if old is not None:
        old[0].close()
    _spare[address] = (conn, holder)


def take(address: str) -> tuple:
    """(connection, holder) that a probe left for `address`, or (None, None)."""
    return _spare.pop(address, (None, None))


def check_owner(uid: int | None) -> None:
    if uid is not None and uid != os.getuid():
        raise Untrusted(
            f"{BUS_NAME} on the D-Bus session bus belongs to uid {uid}, not to you"
            f" (uid {os.getuid()})"
        )


def connect(address: str, where: str):
    """A connection to the bus at `address`, whose daemon must be ours."""
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=address, auth_timeout=1.0)
    try:
        _check_daemon(conn, where)
    except Untrusted:
        conn.close()
        raise
    return conn
