"""Asking a person for the encrypted file's passphrase: a new one, or the one it has."""

from __future__ import annotations

from authsome.errors import BadPassphrase, UsageError

TRIES = 3  # as sudo and ssh: a typo costs a retype, not the command (and the API key typed first)
MIN_LENGTH = 8


def ask_new(prompter, vault: str) -> str:
    """A new passphrase, typed twice; asked again when short or when the two differ."""
    for _ in range(TRIES):
        first = prompter.secret(f"New passphrase for {vault}: ")
        if len(first) < MIN_LENGTH:
            # It is all that guards a copy of the file, offline, against guessing.
            _say(prompter, f"at least {MIN_LENGTH} characters: it is all that guards the file")
        elif prompter.secret("Repeat the passphrase: ") != first:
            _say(prompter, "the two passphrases differ")
        else:
            return first
    raise UsageError(
        f"no passphrase chosen in {TRIES} tries",
        f"run the command again with a passphrase of {MIN_LENGTH} or more characters, twice",
    )


def key_by_passphrase(unlocker, vault: str, derive, verify) -> bytes:
    """The vault key from the passphrase; a wrong one typed at the terminal is asked again."""
    for attempt in range(TRIES):
        key = derive(unlocker.passphrase(vault, new=False))
        if verify(key):
            return key
        if unlocker.passphrase_source != "prompt":
            raise BadPassphrase(
                f"wrong passphrase for the encrypted file {vault}",
                f"check {unlocker.passphrase_source}: it does not open this file",
            )
        if attempt < TRIES - 1:
            _say(unlocker.prompter, "wrong passphrase")
    raise BadPassphrase(
        f"wrong passphrase for the encrypted file {vault} ({TRIES} tries)",
        "run the command again; a forgotten passphrase cannot be recovered: log in again after"
        f" moving {vault} aside",
    )


def _say(prompter, what: str) -> None:
    print(f"authsome: {what}. Try again.", file=prompter.stderr, flush=True)
