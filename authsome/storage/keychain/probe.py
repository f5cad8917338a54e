"""The result of asking whether a platform keychain is usable here."""

from __future__ import annotations

from authsome.util.record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT


class ProbeResult(Record):
    """Whether the keychain is usable, and what was found on the way."""

    # keychain names it ("Secret Service", ...); detail says why ("no D-Bus session"); facts
    # holds what was found ({"dbus": True, "secret_service": False}).

    # fix: how to make it usable, for the error of AUTHSOME_BACKEND=keychain and for doctor.

    __slots__ = ("usable", "keychain", "detail", "facts", "seconds", "fix")
    _defaults = {"facts": dict, "seconds": 0.0, "fix": None}

    if TYPE_CHECKING:
        usable: bool
        keychain: str
        detail: str
        facts: dict[str, object] = DEFAULT
        seconds: float = DEFAULT
        fix: str | None = DEFAULT
