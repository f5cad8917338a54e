"""The result of asking whether a platform keychain is usable here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProbeResult:
    """Whether the keychain is usable, and what was found on the way."""

    usable: bool
    keychain: str  # "Secret Service", "macOS Keychain", ...
    detail: str  # why: "no D-Bus session", "org.freedesktop.secrets is owned on the session bus"
    facts: dict = field(default_factory=dict)  # e.g. {"dbus": True, "secret_service": False}
    seconds: float = 0.0
