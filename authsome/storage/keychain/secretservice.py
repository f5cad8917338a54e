"""Linux (and other freedesktop systems): the Secret Service over D-Bus, via secretstorage.

secretstorage is used directly rather than through keyring so that each connection is one
item with a readable label and provider/connection attributes.

Secrets go only to this user's own bus and service: see storage/keychain/dbus.py.
"""

from __future__ import annotations

import time

from authsome.errors import StoreUnavailable
from authsome.storage.base import label_for, split_key
from authsome.storage.keychain.dbus import (
    BUS_NAME,
    Untrusted,
    check_owner,
    connect,
    leave,
    secrets_holder,
    secrets_owner,
    session_bus_address,
)
from authsome.storage.keychain.probe import ProbeResult

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

APPLICATION = "authsome"
KEYCHAIN = "Secret Service"
FIX = "unlock or start your keyring, or use the encrypted file: AUTHSOME_BACKEND=file"
NO_BUS_FIX = (
    "start a D-Bus session with a keyring (dbus-run-session, gnome-keyring-daemon --unlock),"
    " or use the encrypted file: AUTHSOME_BACKEND=file"
)
UNTRUSTED_FIX = (
    "check DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR point at your own session, or use the"
    " encrypted file: AUTHSOME_BACKEND=file"
)


def probe(environ: dict[str, str]) -> ProbeResult:
    """Is a Secret Service reachable on the session bus? Cheap when there is no bus."""
    # facts["secret_service"] stays None unless the bus was asked: doctor then names the
    # reason rather than report "no Secret Service" next to a running keyring.
    start = time.perf_counter()

    def result(usable: bool, detail: str, facts: dict, fix: str = FIX) -> ProbeResult:
        return ProbeResult(usable, KEYCHAIN, detail, facts, time.perf_counter() - start, fix)

    try:
        address, where = session_bus_address(environ)
    except Untrusted as e:
        facts: dict[str, object] = {"dbus": True, "trusted": False, "secret_service": None}
        return result(False, str(e), facts, UNTRUSTED_FIX)
    if address is None:
        return result(False, where, {"dbus": False, "secret_service": None}, NO_BUS_FIX)
    facts = {"dbus": True, "bus_address_from": where, "secret_service": None}
    try:
        conn = connect(address, where)
    except Untrusted as e:
        return result(False, str(e), {**facts, "trusted": False}, UNTRUSTED_FIX)
    except Exception as e:  # noqa: BLE001 - any failure to connect means "not usable"
        detail = f"the D-Bus session bus ({where}) cannot be reached: {type(e).__name__}"
        return result(False, detail, {**facts, "dbus": False}, NO_BUS_FIX)
    holder = None
    try:
        holder, activatable = _find_service(conn)
    except Untrusted as e:
        return result(False, str(e), {**facts, "trusted": False}, UNTRUSTED_FIX)
    except Exception as e:  # noqa: BLE001
        return result(False, f"the D-Bus session bus did not answer: {type(e).__name__}", facts)
    finally:
        if holder is None:
            conn.close()
        else:
            leave(address, conn, holder)  # for the read that follows (dbus.py)
    owned = holder is not None
    if owned:
        detail = f"{BUS_NAME} is running on the D-Bus session bus"
    elif activatable:
        detail = f"{BUS_NAME} can be activated on the D-Bus session bus"
    else:
        detail = f"D-Bus session found, but nothing provides {BUS_NAME}"
    return result(owned or activatable, detail, {**facts, "secret_service": owned or activatable})


def _find_service(conn) -> tuple[str | None, bool]:
    """(the unique name of ours holding the Secret Service name or None, the bus can start one)."""
    from jeepney import DBusAddress, new_method_call

    holder = secrets_holder(conn)  # raises Untrusted when the holder runs as someone else
    if holder is not None:
        return holder, False
    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    names = conn.send_and_get_reply(new_method_call(bus, "ListActivatableNames"), timeout=1.0)
    return None, BUS_NAME in names.body[0]


def can_show_prompt(environ: dict[str, str]) -> bool:
    """A Secret Service unlock prompt is a desktop window: it needs a display."""
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


class SecretServiceDriver:
    """One Secret Service item per connection in the default collection."""

    description = "the Secret Service keychain"

    def __init__(self, environ: dict[str, str]):
        self.environ = environ
        self._conn = None
        self._collection: Any = None  # secretstorage's Collection, from _open()

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
                self._conn = connect(address, why)
                add_match_rules(self._conn)
                collection = secretstorage.get_default_collection(self._conn)
                # Now that the service runs (activated if need be), before any secret is sent.
                check_owner(secrets_owner(self._conn))
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

    def quick_get(self, key: str):
        """The hot path's read (quickread.py): the secret, None, or quickread.SLOW."""
        from authsome.storage.keychain import quickread

        if self._collection is not None:
            return quickread.SLOW  # already open: the full driver answers as cheaply
        try:
            address, why = session_bus_address(self.environ)
            if address is None:
                return quickread.SLOW
            return quickread.read(address, why, self._attrs(key))
        except Untrusted as e:
            raise StoreUnavailable(str(e), UNTRUSTED_FIX) from None
        except Exception:  # noqa: BLE001 - anything else: the full driver says what is wrong
            return quickread.SLOW

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
