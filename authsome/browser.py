"""Opening a graphical browser, only where one can really be shown."""

from __future__ import annotations

import sys

TEXT_BROWSERS = {"lynx", "links", "elinks", "w3m", "www-browser", "browsh"}


def display_available(environ: dict[str, str]) -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def _browser(environ: dict[str, str]):
    """webbrowser's choice, or None when it is missing or a text browser (lynx, w3m...)."""
    import os
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return None
    name = os.path.basename(getattr(browser, "name", "") or "")
    return None if name in TEXT_BROWSERS else browser


def graphical_browser(environ: dict[str, str]) -> bool:
    return _browser(environ) is not None


def open_url(url: str, environ: dict[str, str]) -> bool:
    """True when a graphical browser was asked to open `url`."""
    if not display_available(environ):
        return False
    browser = _browser(environ)
    if browser is None:
        return False
    import webbrowser

    if type(browser) is webbrowser.GenericBrowser:
        # webbrowser waits for a $BROWSER command to exit, in our terminal's process group: a
        # browser it starts would hold up the login and die with Ctrl-C. Detach it instead.
        browser = webbrowser.BackgroundBrowser([browser.name, *browser.args])
    try:
        return bool(browser.open(url))
    except Exception:  # noqa: BLE001 - a failed browser launch is not fatal: the URL is shown
        return False
