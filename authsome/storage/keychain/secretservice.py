"""Linux (and other freedesktop systems): the Secret Service over D-Bus, via secretstorage.

secretstorage is used directly rather than through keyring so that each connection is one
item with a readable label and provider/connection attributes.

A secret goes only to a bus and a Secret Service of this user's own: the socket must be ours,
in a folder no one else can write to; the daemon at its other end must run as us (SO_PEERCRED,
where the platform has it); and so must whoever holds org.freedesktop.secrets on it.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from urllib.parse import unquote

from authsome.errors import StoreUnavailable
from authsome.settings import not_own_problem
from authsome.storage.base import label_for, split_key
from authsome.storage.keychain.probe import ProbeResult

BUS_NAME = "org.freedesktop.secrets"
APPLICATION = "authsome"
KEYCHAIN = "Secret Service"
FIX = "unlock or start your keyring, or use the encrypted file: AUTHSOME_BACKEND=file"
UNTRUSTED_FIX = (
    "check DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR point at your own session, or use the"
    " encrypted file: AUTHSOME_BACKEND=file"
)


class Untrusted(Exception):
    """The bus or the Secret Service on it belongs to another user."""


def session_bus_address(environ: dict[str, str]) -> tuple[str | None, str]:
    """The session bus address to use, or None with the reason; never launches a bus.

    Raises Untrusted when the bus socket is another user's or sits in a folder others can
    write to.
    """
    addr = environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if addr:
        for part in addr.split(";"):
            transport, _, rest = part.partition(":")
            if transport != "unix":
                continue
            keys = dict(kv.partition("=")[::2] for kv in rest.split(",") if kv)
            if "path" in keys:
                path = unquote(keys["path"])
                _check_socket(path, "DBUS_SESSION_BUS_ADDRESS")
                return f"unix:path={path}", "DBUS_SESSION_BUS_ADDRESS"
            if "abstract" in keys:  # no file to check: the daemon's uid is checked instead
                return f"unix:abstract={unquote(keys['abstract'])}", "DBUS_SESSION_BUS_ADDRESS"
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


def _check_socket(path: str, where: str) -> None:
    """The socket must be ours, in a folder only we (or root) can change."""
    if not os.path.lexists(path):
        return  # nothing there: connecting fails and says so
    folder = Path(os.path.realpath(path)).parent
    problem = not_own_problem(Path(path), 0) or not_own_problem(folder, 0o022)
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


def _secrets_owner(conn) -> int | None:
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


def _check_owner(uid: int | None) -> None:
    if uid is not None and uid != os.getuid():
        raise Untrusted(
            f"{BUS_NAME} on the D-Bus session bus belongs to uid {uid}, not to you"
            f" (uid {os.getuid()})"
        )


def _connect(address: str, where: str):
    """A connection to the bus at `address`, whose daemon must be ours."""
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=address, auth_timeout=1.0)
    try:
        _check_daemon(conn, where)
    except Untrusted:
        conn.close()
        raise
    return conn


def probe(environ: dict[str, str]) -> ProbeResult:
    """Is a Secret Service reachable on the session bus? Cheap when there is no bus."""
    start = time.perf_counter()
    try:
        address, where = session_bus_address(environ)
    except Untrusted as e:
        facts = {"dbus": True, "trusted": False, "secret_service": False}
        return ProbeResult(False, KEYCHAIN, str(e), facts, time.perf_counter() - start)
    if address is None:
        return ProbeResult(
            False,
            KEYCHAIN,
            where,
            {"dbus": False, "secret_service": False},
            time.perf_counter() - start,
        )
    facts = {"dbus": True, "bus_address_from": where, "secret_service": False}
    try:
        from jeepney import DBusAddress, new_method_call

        conn = _connect(address, where)
    except Untrusted as e:
        facts["trusted"] = False
        return ProbeResult(False, KEYCHAIN, str(e), facts, time.perf_counter() - start)
    except Exception as e:  # noqa: BLE001 - any failure to connect means "not usable"
        facts["dbus"] = False
        detail = f"the D-Bus session bus ({where}) cannot be reached: {type(e).__name__}"
        return ProbeResult(False, KEYCHAIN, detail, facts, time.perf_counter() - start)
    try:
        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
        owner = _secrets_owner(conn)  # one round trip: whether it is owned, and by whom
        _check_owner(owner)
        owned = owner is not None
        activatable = False
        if not owned:
            names = conn.send_and_get_reply(
                new_method_call(bus, "ListActivatableNames"), timeout=1.0
            ).body[0]
            activatable = BUS_NAME in names
    except Untrusted as e:
        facts["trusted"] = False
        return ProbeResult(False, KEYCHAIN, str(e), facts, time.perf_counter() - start)
    except Exception as e:  # noqa: BLE001
        detail = f"the D-Bus session bus did not answer: {type(e).__name__}"
        return ProbeResult(False, KEYCHAIN, detail, facts, time.perf_counter() - start)
    finally:
        conn.close()
    facts["secret_service"] = bool(owned or activatable)
    if owned:
        detail = f"{BUS_NAME} is running on the D-Bus session bus"
    elif activatable:
        detail = f"{BUS_NAME} can be activated on the D-Bus session bus"
    else:
        detail = f"D-Bus session found, but nothing provides {BUS_NAME}"
    return ProbeResult(
        bool(owned or activatable), KEYCHAIN, detail, facts, time.perf_counter() - start
    )


def can_show_prompt(environ: dict[str, str]) -> bool:
    """A Secret Service unlock prompt is a desktop window: it needs a display."""
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


class SecretServiceDriver:
    """One Secret Service item per connection in the default collection."""

    description = "the Secret Service keychain"

    def __init__(self, environ: dict[str, str]):
        self.environ = environ
        self._conn = None
        self._collection = None

    def _wrap(self, e: Exception, doing: str) -> StoreUnavailable:
        name = type(e).__name__
        text = str(e).splitlines()[0][:160] if str(e) else name
        return StoreUnavailable(f"the Secret Service failed while {doing}: {text}", FIX)

    def open(self) -> bool:
        """Connect and find the default collection; True when it is locked."""
        import secretstorage
        from secretstorage.util import add_match_rules

        if self._collection is None:
            try:
                address, why = session_bus_address(self.environ)
                if address is None:
                    raise StoreUnavailable(f"the Secret Service is not reachable ({why})", FIX)
                self._conn = _connect(address, why)
                add_match_rules(self._conn)
                collection = secretstorage.get_default_collection(self._conn)
                # Now that the service runs (activated if need be), before any secret is sent.
                _check_owner(_secrets_owner(self._conn))
                self._collection = collection
            except Untrusted as e:
                raise StoreUnavailable(str(e), UNTRUSTED_FIX) from None
            except StoreUnavailable:
                raise
            except Exception as e:  # noqa: BLE001
                raise self._wrap(e, "opening the default collection") from None
        try:
            return self._collection.is_locked()
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, "checking whether the collection is locked") from None

    def collection_label(self) -> str:
        try:
            return self._collection.get_label()
        except Exception:  # noqa: BLE001
            return "default"

    def can_unlock(self) -> bool:
        return can_show_prompt(self.environ)

    def unlock(self, timeout: float) -> None:
        """Ask the desktop to show the unlock prompt, and wait for the answer."""
        try:
            try:
                dismissed = self._collection.unlock(timeout=timeout)
            except TypeError:  # secretstorage < 3.5 has no timeout; the caller bounds it
                dismissed = self._collection.unlock()
        except TimeoutError:
            raise StoreUnavailable("the keyring unlock prompt was not answered", FIX) from None
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, "unlocking the collection") from None
        if dismissed:
            raise StoreUnavailable("the keyring unlock prompt was dismissed", FIX)

    def _attrs(self, key: str | None = None) -> dict[str, str]:
        attrs = {"application": APPLICATION}
        if key is not None:
            provider, connection = split_key(key)
            attrs.update(provider=provider, connection=connection)
        return attrs

    def _items(self, key: str | None = None):
        return list(self._collection.search_items(self._attrs(key)))

    def get(self, key: str) -> str | None:
        try:
            items = self._items(key)
            return items[0].get_secret().decode("utf-8") if items else None
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, "reading a secret") from None

    def set(self, key: str, value: str) -> None:
        try:
            self._collection.create_item(
                label_for(key), self._attrs(key), value.encode("utf-8"), replace=True
            )
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, "storing a secret") from None

    def delete(self, key: str) -> bool:
        try:
            items = self._items(key)
            for item in items:
                item.delete()
            return bool(items)
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, "deleting a secret") from None

    def list(self) -> list[str]:
        try:
            keys = set()
            for item in self._items():
                attrs = item.get_attributes()
                if "provider" in attrs:
                    keys.add(f"{attrs['provider']}:{attrs.get('connection', 'default')}")
            return sorted(keys)
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, "listing secrets") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
