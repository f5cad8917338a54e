"""API keys: from the provider's env var, a pipe, or a masked prompt; never from argv."""

from __future__ import annotations

import re

from authsome.errors import UsageError


def obtain(provider, environ, prompter, say) -> str:
    spec = provider.api_key
    env_var = spec.env_var if spec else None
    if env_var and environ.get(env_var):
        key = environ[env_var].strip()
        say(f"Imported {provider.display_name} API key from ${env_var}.")
    elif not prompter.stdin_is_tty():
        key = prompter.read_line().strip()
    elif prompter.can_prompt():
        if provider.docs_url:
            say(f"Get a key at {provider.docs_url}")
        key = prompter.secret(f"{provider.display_name} API key: ").strip()
    else:
        raise UsageError(
            f"no {provider.display_name} API key given",
            f"pipe it in, or set {env_var or 'the key'} in the environment",
        )
    if not key:
        raise UsageError(
            f"the {provider.display_name} API key is empty", "paste the whole key and try again"
        )
    if spec and spec.key_pattern and not re.search(spec.key_pattern, key):
        raise UsageError(
            f"that does not look like an API key for {provider.display_name} "
            f"(expected the pattern {spec.key_pattern})",
            "check that you copied the whole key",
        )
    return key
