"""Where one unlock is shared by every shell of the user's login: the kernel user keyring.

Linux only (storage/file/_userkeyring_linux.py). Elsewhere, with AUTHSOME_KEYRING=0, or where the
kernel refuses the calls (containers often block them), unlock falls back to one shell.
"""

from __future__ import annotations

import sys

ENV_KEYRING = "AUTHSOME_KEYRING"
OFF = ("0", "off", "no", "false")


def open_keyring(environ: dict[str, str]):
    """(keyring, None), or (None, why there is none here)."""
    if environ.get(ENV_KEYRING, "").strip().lower() in OFF:
        return None, f"{ENV_KEYRING}={environ[ENV_KEYRING]}"
    if not sys.platform.startswith("linux"):
        return None, "no kernel keyring on this system"
    from authsome.storage.file._userkeyring_linux import UserKeyring

    try:
        return UserKeyring(), None
    except OSError as e:
        return None, e.strerror or str(e)
