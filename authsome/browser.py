"""Opening a graphical browser, only where one can really be shown."""

from __future__ import annotations

import sys

TEXT_BROWSERS = {"lynx", "links", "elinks", "w3m", "www-browser", "browsh"}


def display_available(environ: dict[str, str]) -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_url(url: str, environ: dict[str, str]) -> bool:
    """True when a graphical browser was asked to open `url`."""
    if not display_available(environ):
        return False
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if getattr(browser, "name", "") in TEXT_BROWSERS:
        return False
    try:
        return bool(browser.open(url))
    except Exception:  # noqa: BLE001 - a failed browser launch is not fatal: the URL is shown
        return False
