"""Text from servers, made safe to print: no escape sequences or other control characters."""

from __future__ import annotations

_SPACES = "\t\n\r\v\f"


def printable(text, multiline: bool = False) -> str:
    """`text` with every control or format character (C0, DEL, C1, bidi overrides...) dropped.

    ESC, BEL and the 8-bit CSI and OSC are what let a server clear the screen, retitle the
    window or hide a link; whitespace controls become spaces, except newlines and tabs when
    `multiline`.
    """
    text = str(text)
    if text.isprintable():
        return text
    keep = "\n\t" if multiline else ""
    return "".join(
        ch if ch.isprintable() or ch in keep else " " if ch in _SPACES else "" for ch in text
    )
