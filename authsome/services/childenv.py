"""The environment of the processes authsome starts (`run`'s command, the browser).

They get the user's environment less what unlocks authsome's store (which would let them read
every connection: the passphrase, a session, a Vault token or AppRole secret) and less every
credential a provider names: its API key variable, the variables it exports, any
*_CLIENT_SECRET, and what an earlier `authsome env` exported.
"""

from __future__ import annotations

import contextlib

from authsome.errors import AuthsomeError, CommandNotFound
from authsome.storage.file.sessions import ENV_PASSPHRASE, ENV_PASSPHRASE_FILE, ENV_SESSION

# The vault store's credentials unlock every connection under its prefix, as the passphrase
# does the file store's (storage/vault/config.py reads them). Dropped whatever store is in
# use, like the passphrase: a child that runs authsome with AUTHSOME_BACKEND=vault would
# otherwise read them all.
VAULT_UNLOCKING = (
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "VAULT_ROLE_ID",
    "VAULT_ROLE_ID_FILE",
    "VAULT_SECRET_ID",
    "VAULT_SECRET_ID_FILE",
)
UNLOCKING = (ENV_SESSION, ENV_PASSPHRASE, ENV_PASSPHRASE_FILE, *VAULT_UNLOCKING)
# services/references.py's prefix, kept here so that `run` can look for references in its
# environment without importing the env-file code.
REFERENCE = "authsome://"
SECRET_SUFFIXES = ("_CLIENT_SECRET",)


def credential_names(registry) -> set[str]:
    """Every variable a provider reads a key from or exports a credential to."""
    names: set[str] = set()
    for name in registry.names():
        with contextlib.suppress(AuthsomeError):  # a broken file names nothing
            provider = registry.get(name)
            names.update(provider.export_env.values())
            if provider.api_key and provider.api_key.env_var:
                names.add(provider.api_key.env_var)
    return names


def scrub(environ: dict[str, str], registry) -> dict[str, str]:
    """`environ` without the variables that unlock authsome or hold credentials."""
    from authsome.services.envbook import BOOKKEEPING, EXPORTED

    drop = {*UNLOCKING, *BOOKKEEPING, *credential_names(registry)}
    drop.update(environ.get(EXPORTED, "").split())
    return {k: v for k, v in environ.items() if k not in drop and not k.endswith(SECRET_SUFFIXES)}


def not_runnable(command: list[str], e: OSError) -> CommandNotFound:
    """The one-line error for a command that cannot be started (exit 127)."""
    if isinstance(e, PermissionError):
        return CommandNotFound(
            f"cannot execute {command[0]}: permission denied", "check that it is an executable file"
        )
    return CommandNotFound(f"command not found: {command[0]}", "check its name and your PATH")


def has_references(environ) -> bool:
    """Whether any value of `environ` is an authsome:// reference: a cheap look, for `run`."""
    return any(value.startswith(REFERENCE) for value in environ.values())
