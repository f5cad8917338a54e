"""This user's own D-Bus session bus, and whoever holds the Secret Service name on it.

A secret goes only to a bus and a Secret Service of this user's own: the socket must be ours,
in a folder where no one else can replace it (ours or root's, and private or sticky, as /tmp);
the daemon at its other end must run as us (SO_PEERCRED, where the platform has it); and so
must whoever holds org.freedesktop.secrets on it.
"""

from __future__ import annotations

import os
import stat

from authsome.util.fsutil import not_own_problem

BUS_NAME = "org.freedesktop.secrets"
# A unix address names its socket with exactly one of these (the D-Bus specification).
_SOCKET_KEYS = ("path", "abstract", "dir", "tmpdir", "runtime")


class Untrusted(Exception):
    """The bus or the Secret Service on it belongs to another user."""


def session_bus_address(environ: dict[str, str]) -> tuple[str | None, str]:
    """The session bus's socket address (a path, or NUL and an abstract name) and where it came
    from; or None and the reason. Never launches a bus.

    The address is parsed once, here, and the socket address itself is what `connect` uses:
    jeepney parsing the address again could read it otherwise (an escaped ",abstract=" inside
    a path). Raises Untrusted when the socket is another user's or others could replace it."""
    addr = environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if addr:
        return _from_address(addr, "DBUS_SESSION_BUS_ADDRESS")
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        path = os.path.join(runtime, "bus")
        try:
            is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
        except OSError:
            is_socket = False
        if is_socket:
            _check_socket(path, "$XDG_RUNTIME_DIR/bus")
            return path, "$XDG_RUNTIME_DIR/bus"
    return None, "no D-Bus session"


def _from_address(addr: str, where: str) -> tuple[str | None, str]:
    for part in addr.split(";"):
        transport, _, rest = part.partition(":")
        if transport != "unix":
            continue
        keys = _keys(rest)
        named = [k for k in _SOCKET_KEYS if k in keys] if keys is not None else []
        if keys is None or len(named) > 1:  # which socket is meant is not certain
            return None, f"{where} is not a valid D-Bus address, not followed"
        if named == ["path"]:
            path = keys["path"]
            if not os.path.exists(path):  # checked when missing, anyone could create it next
                return None, (
                    f"the D-Bus session bus ({where}) cannot be reached: {path} does not exist"
                )
            _check_socket(path, where)
            return path, where
        if named == ["abstract"]:  # no file to check: the daemon's uid is checked instead
            return "\0" + keys["abstract"], where
    transport = addr.split(":", 1)[0]
    return None, f"{where} uses the {transport!r} transport, not followed"


def _keys(text: str) -> dict[str, str] | None:
    """The key=value pairs of one unix address, %XX escapes decoded; None when malformed
    (a pair without '=', or a key given twice)."""
    keys: dict[str, str] = {}
    for pair in filter(None, text.split(",")):  # a stray comma is no pair
        key, sep, value = pair.partition("=")
        if not sep or not key or key in keys:
            return None
        keys[key] = _unescape(value)
    return keys


def _unescape(value: str) -> str:
    """A D-Bus address value with its %XX escapes decoded (bytes, read as the file system does)."""
    if "%" not in value:  # the usual case: urllib.parse (and ipaddress) stay unimported
        return value
    from urllib.parse import unquote

    return unquote(value, errors="surrogateescape")


def _check_socket(path: str, where: str) -> None:
    """The socket must be ours, in a folder where only we (or root) can replace it."""
    # Plain strings, not pathlib: `token` and `env` from the keychain need pathlib nowhere else.
    folder = os.path.dirname(os.path.realpath(path))
    problem = not_own_problem(path, 0) or _folder_problem(folder)
    if not problem and os.path.islink(path):
        # A link to our socket is as safe as where it stands: its owner can re-point it.
        link = os.lstat(path)
        if link.st_uid not in (os.getuid(), 0):
            problem = f"{path} is a link of uid {link.st_uid}, not yours (uid {os.getuid()})"
        problem = problem or _folder_problem(os.path.dirname(os.path.abspath(path)))
    if problem:
        raise Untrusted(f"the D-Bus socket ({where}) is not safe to use: {problem}")


def _folder_problem(folder: str) -> str | None:
    # dbus-run-session and dbus-launch put the socket in /tmp: root's, open to all, but sticky,
    # so only we (or root) may remove or rename our socket there. A folder that another user
    # owns, or that others may write without the sticky bit, lets them swap the socket.
    try:
        st = os.stat(folder)
    except OSError as e:
        return f"{folder} cannot be read ({e.strerror})"
    if st.st_uid not in (os.getuid(), 0):
        return f"{folder} belongs to uid {st.st_uid}, not to you (uid {os.getuid()})"
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        return f"{folder} is open to other users (mode {st.st_mode & 0o777:04o})"
    return None


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
    """A connection to the bus at the socket address `address`, whose daemon must be ours."""
    # jeepney's open_dbus_connection less its address parsing (session_bus_address says why).
    from jeepney.io.blocking import DBusConnection, prep_socket

    sock = prep_socket(address, timeout=1.0)
    try:
        conn = DBusConnection(sock)
    except BaseException:
        sock.close()
        raise
    try:
        _check_daemon(conn, where)
    except Untrusted:
        conn.close()
        raise
    return conn
