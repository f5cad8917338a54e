"""API keys: from the provider's env var, a pipe, the browser bridge or a masked prompt; never
from argv."""

from __future__ import annotations

import re

from authsome.errors import UsageError


def obtain(ctx, provider, login_hint: str, no_browser: bool = False) -> str:
    spec = provider.api_key
    env_var = spec.env_var if spec else None
    pattern = spec.key_pattern if spec else None
    if env_var and ctx.environ.get(env_var):
        key = ctx.environ[env_var].strip()
        ctx.say(f"Imported {provider.display_name} API key from ${env_var}.")
    elif not ctx.prompter.stdin_is_tty():
        key = ctx.prompter.read_line().strip()
    else:
        key = ask_secret(ctx, provider, "API key", pattern, login_hint, no_browser)
    if not key:
        raise UsageError(
            f"the {provider.display_name} API key is empty", "paste the whole key and try again"
        )
    if pattern and not re.search(pattern, key):
        raise UsageError(
            f"that does not look like an API key for {provider.display_name} "
            f"(expected the pattern {pattern})",
            "check that you copied the whole key",
        )
    return key


def ask_secret(ctx, provider, what: str, pattern, login_hint: str, no_browser: bool) -> str:
    """A secret from a person: the browser bridge with a display, else a masked prompt."""
    from authsome import bridge

    if bridge.enabled(ctx.environ, no_browser):
        return bridge.collect(
            ctx, provider.display_name, what, provider.docs_url, pattern, login_hint
        )
    if ctx.prompter.can_prompt():
        if provider.docs_url and what == "API key":
            ctx.say(f"Get a key at {provider.docs_url}")
        return ctx.prompter.secret(f"{provider.display_name} {what}: ").strip()
    raise UsageError(
        f"no {provider.display_name} {what} given", "pipe it in, or set it in the environment"
    )
