"""No login yet, when `authsome mcp` starts: on a desktop, the browser login (PKCE), as
mcp-remote does, said on stderr; anywhere else, the client's request is answered with the
one-line fix. Never a prompt: stdin and stdout are the client's JSON-RPC channel.

One bridge per process, so the state is the module's: one login at a time, tried once."""

from __future__ import annotations

import threading

from authsome.errors import AuthsomeError

_lock = threading.Lock()
_tried: list[bool] = []


def browser_login(bridge) -> bool:
    """Log in in the browser if this is a desktop and nobody has; True when logged in now."""
    from authsome.oauth import DCR_PKCE, PKCE
    from authsome.storage.connections import parse_ref
    from authsome.ui.browser import display_available, graphical_browser

    ctx = bridge.ctx
    if not (display_available(ctx.environ) and graphical_browser(ctx.environ)):
        return False
    ref = parse_ref(bridge.name)
    with _lock:  # the client's other requests wait for this login, not start their own
        if ctx.connections.find(*ref) is not None:
            return not _tried or _tried[0]  # logged in meanwhile (by this bridge or another)
        if _tried:
            return False  # one browser login per session: a closed tab is not reopened
        _tried.append(False)
        provider = ctx.provider(ref[0])
        flows = provider.flows()
        flow = provider.flow if provider.flow in (PKCE, DCR_PKCE) else PKCE
        if flow not in flows:
            return False
        bridge.say(
            f"authsome: not logged in to {bridge.name}: opening the browser to log in"
            f" ({flow}); the MCP client waits until you do"
        )
        try:
            _login(ctx, bridge.name, flow)
        except AuthsomeError as e:
            bridge.say(f"authsome: the browser login failed: {e}")
            return False
        _tried[0] = True
        return True


def _login(ctx, name: str, flow: str) -> None:
    from authsome.services.login import login

    # Its lines (the URL, "Opened your browser") go to stderr, like every word of the bridge.
    login(ctx, name, flow=flow, open_browser=True)


def login_fix(ctx, name: str) -> str:
    """The one-line fix for no login (or a refused one, --force): the device flow where the
    provider has it, which works from any terminal (over SSH, in a container); else its own
    flow, from a desktop."""
    from authsome.oauth import DEVICE_CODE
    from authsome.storage.connections import parse_ref

    ref = parse_ref(name)
    try:
        device = DEVICE_CODE in ctx.provider(ref[0]).flows()
    except AuthsomeError:
        device = True  # not known now (offline): the flow MCP servers mostly offer
    try:
        again = ctx.connections.find(*ref) is not None  # a login the server refused
    except AuthsomeError:
        again = False
    return (
        f"run: authsome login {name}"
        + (" --force" if again else "")
        + (f" --flow {DEVICE_CODE}" if device else "")
    )
