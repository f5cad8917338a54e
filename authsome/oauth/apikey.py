"""API keys: from the provider's env var, a pipe, the browser bridge or a masked prompt; never
from argv."""

from __future__ import annotations

import re

from authsome.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

ATTEMPTS = 3  # keys typed at a terminal; a key from a pipe or a variable gets one


def obtain(ctx: Context, request):
    """The api_key flow: the Connection holding the key (checked before the store opens)."""
    from authsome.storage.connections import Connection

    key = read_key(ctx, request.provider, request.hint, not request.open_browser)
    secrets = {"api_key": key}
    return Connection(request.provider.name, request.connection, "api_key", request.flow, secrets)


def read_key(ctx: Context, provider, login_hint: str, no_browser: bool = False) -> str:
    """The key, checked against the provider's pattern; asked again at a terminal."""
    spec = provider.api_key
    env_var = spec.env_var if spec else None
    pattern = spec.key_pattern if spec else None
    if env_var and ctx.environ.get(env_var):
        key = ctx.environ[env_var].strip()
        ctx.io.say(f"Imported {provider.display_name} API key from ${env_var}.")
        return check(provider, key, f"${env_var}")
    if not ctx.io.prompter.stdin_is_tty():
        return check(provider, ctx.io.prompter.read_line().strip())
    for attempt in range(1, ATTEMPTS + 1):
        key = ask_secret(ctx, provider, "API key", pattern, login_hint, no_browser)
        try:
            return check(provider, key)
        except UsageError as e:
            if attempt == ATTEMPTS or not ctx.io.prompter.can_prompt():
                raise
            ctx.io.say(f"authsome: {e.what}. Try again ({ATTEMPTS - attempt} left).")
    raise AssertionError("unreachable")


def check(provider, key: str, source: str = "") -> str:
    """`key`, or UsageError when it is empty or does not match the provider's pattern."""
    where = f" in {source}" if source else ""
    if not key:
        raise UsageError(
            f"the {provider.display_name} API key{where} is empty",
            "paste the whole key and try again",
        )
    if not key.isprintable():  # a stored record with one would not read back (connection.py)
        raise UsageError(
            f"the {provider.display_name} API key{where} has a control character in it",
            "paste the key alone and try again",
        )
    pattern = provider.api_key.key_pattern if provider.api_key else None
    if pattern and not re.search(pattern, key):
        raise UsageError(
            f"that does not look like an API key for {provider.display_name}{where} "
            f"(expected the pattern {pattern})",
            "check that you copied the whole key",
        )
    return key


def ask_secret(
    ctx: Context, provider, what: str, pattern, login_hint: str, no_browser: bool
) -> str:
    """A secret from a person: the browser bridge with a display, else a masked prompt."""
    from authsome.oauth import bridge

    if bridge.enabled(ctx.environ, no_browser):
        return bridge.collect(
            ctx, provider.display_name, what, provider.docs_url, pattern, login_hint
        )
    if ctx.io.prompter.can_prompt():
        if provider.docs_url and what == "API key":
            ctx.io.say(f"Get a key at {provider.docs_url}")
        return ctx.io.prompter.secret(f"{provider.display_name} {what}: ").strip()
    raise UsageError(
        f"no {provider.display_name} {what} given", "pipe it in, or set it in the environment"
    )
