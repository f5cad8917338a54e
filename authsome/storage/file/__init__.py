"""The encrypted file store: the vault, its unlock sessions and key sources."""
