"""Opening a graphical browser, only where one can really be shown."""

from __future__ import annotations

import contextlib
import os
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


def open_url(url: str, environ: dict[str, str], child_env: dict[str, str] | None = None) -> bool:
    """True when a graphical browser was asked to open `url`; it starts with `child_env`."""
    if not display_available(environ):
        return False
    browser = _browser(environ)
    if browser is None:
        return False
    import webbrowser

    if child_env is None:
        child_env = dict(os.environ)
    if isinstance(browser, webbrowser.GenericBrowser):  # $BROWSER, xdg-open
        return _launch([browser.name, *(a.replace("%s", url) for a in browser.args)], child_env)
    try:
        with _process_environ(child_env):
            return bool(browser.open(url))
    except Exception:  # noqa: BLE001 - a failed browser launch is not fatal: the URL is shown
        return False


@contextlib.contextmanager
def _process_environ(env: dict[str, str]):
    """os.environ is `env` for the duration: webbrowser's launchers (Popen, os.popen for
    osascript, os.startfile) take no env argument and pass on the process's own."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _launch(cmdline: list[str], env: dict[str, str]) -> bool:
    """Start a browser command detached; True unless it failed straight away.

    webbrowser waits for a $BROWSER command in our terminal's process group, so a browser it
    starts would hold up the login and die with Ctrl-C; and for xdg-open it reports failure
    when the launcher has already exited successfully. Here the command gets a session of its
    own and no terminal, and a launcher that exits at once counts by its exit status.
    """
    import subprocess

    try:
        proc = subprocess.Popen(
            cmdline,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # stdout is for machine output only
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    try:
        return proc.wait(0.5) == 0  # a launcher, or a running browser taking the URL
    except subprocess.TimeoutExpired:
        return True  # a browser starting up: it runs until its window closes
