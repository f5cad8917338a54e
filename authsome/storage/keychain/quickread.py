"""The keychain's hot path: one secret read in five D-Bus calls, without secretstorage.

`token` and `env` only read. secretstorage costs about 17 ms to import and its encrypted
session another 11 ms of cryptography, so the read speaks the few calls it needs with jeepney,
the library secretstorage is built on, on the same verified connection (dbus.connect: our own
socket and bus daemon), to the Secret Service by its unique name once that name's owner is
checked to be us, which also closes the gap between checking the owner and calling it.

The session is `plain`: the secret crosses our own socket unencrypted. Diffie-Hellman would
hide it only from someone who can read this user's bus traffic, and anyone who can (root, or
this uid) can already ask the Secret Service for it.

Anything unusual (no service running yet, a locked collection, an error reply) returns SLOW,
and the full driver (secretservice.py) takes over: activation, unlock prompts, errors.
"""

from __future__ import annotations

from authsome.storage.keychain.dbus import connect, secrets_holder, take

SLOW = object()  # "ask the full driver"
SERVICE = "/org/freedesktop/secrets"
DEFAULT = "/org/freedesktop/secrets/aliases/default"
SECRET = "org.freedesktop.Secret."


def read(address: str, where: str, attributes: dict[str, str]):
    """The secret of the first item with `attributes`: str, None when there is none, or SLOW.

    Raises dbus.Untrusted when the bus or the service is not ours."""
    from jeepney.wrappers import DBusErrorResponse

    conn, owner = take(address)  # left by this process's probe, if it just ran
    if conn is None:
        conn = connect(address, where)
    try:
        owner = owner or secrets_holder(conn)
        if owner is None:
            return SLOW  # not running: the full driver activates it
        call = _Caller(conn, owner)
        session = call(SERVICE, "Service", "OpenSession", "sv", "plain", ("s", ""))[1]
        (items,) = call(DEFAULT, "Collection", "SearchItems", "a{ss}", attributes)
        if not items:
            # A locked collection may hide its items: only the full driver can say "none".
            props = "org.freedesktop.DBus.Properties"
            (locked,) = call(DEFAULT, props, "Get", "ss", SECRET + "Collection", "Locked")
            return SLOW if locked[1] else None
        (secret,) = call(items[0], "Item", "GetSecret", "o", session)
        return bytes(secret[2]).decode("utf-8")
    except (DBusErrorResponse, UnicodeDecodeError, ValueError, TypeError, IndexError):
        return SLOW
    finally:
        conn.close()


class _Caller:
    """Method calls to one bus name, unwrapped; errors raise DBusErrorResponse."""

    def __init__(self, conn, owner: str):
        self.conn, self.owner = conn, owner

    def __call__(self, path: str, interface: str, member: str, signature: str = "", *args):
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        if "." not in interface:
            interface = SECRET + interface
        address = DBusAddress(path, bus_name=self.owner, interface=interface)
        message = new_method_call(address, member, signature or None, args)
        return unwrap_msg(self.conn.send_and_get_reply(message, timeout=1.0))
