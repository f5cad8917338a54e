"""Key derivation and authenticated encryption, all from `cryptography`."""

from __future__ import annotations

import binascii
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
# OWASP Password Storage Cheat Sheet minimum for scrypt: N=2^17, r=8, p=1 (128 MiB).
SCRYPT_PARAMS = {"n": 2**17, "r": 8, "p": 1}


class DecryptionFailed(Exception):
    """The key is wrong, or the ciphertext or its associated data was altered."""


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def derive_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """A 256-bit key from `passphrase` with scrypt."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def aesgcm_class():
    """cryptography's AESGCM class.

    Since cryptography 42 the public class is the Rust one, re-exported by
    cryptography.hazmat.primitives.ciphers.aead; reaching it through the binding skips that
    module's Python imports (typing and friends), about 15 ms of every `authsome token`. Older
    releases (Debian 12 ships 38) take the public path.
    """
    try:
        from cryptography.hazmat.bindings._rust import openssl

        return openssl.aead.AESGCM
    except (ImportError, AttributeError):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: a fresh nonce followed by ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aesgcm_class()(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse `seal`; raises DecryptionFailed on any mismatch."""
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionFailed
    try:
        return aesgcm_class()(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except Exception:  # noqa: BLE001 - InvalidTag, or a key/nonce the cipher rejects
        raise DecryptionFailed from None


def sha256_hex(data: bytes) -> str:
    """hashlib.sha256(data).hexdigest(), without hashlib on the hot path."""
    # Every `token` parses the vault. hashlib loads OpenSSL (about 3.5 ms); CPython's own
    # SHA-256 module gives the same digest in a tenth of that.
    if TYPE_CHECKING:  # the C modules have no stubs; they are hashlib's sha256
        from hashlib import sha256
    else:
        try:
            from _sha2 import sha256  # Python 3.12+
        except ImportError:
            try:
                from _sha256 import sha256
            except ImportError:
                from hashlib import sha256
    return sha256(data).hexdigest()


# binascii, as base64.b64encode and b64decode(validate=True) call it: the base64 module
# (and struct, which it imports) would cost every `token` another half millisecond.
def b64e(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64d(text: str) -> bytes:
    """Strict: a character outside the alphabet, or bad padding, raises ValueError."""
    return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
