"""Linux: the kernel's user keyring (@u), through the add_key(2) and keyctl(2) system calls.

Every process of this uid shares it (terminals, tmux panes, ssh logins), no other uid can
use what is in it, its keys live in kernel memory (never on disk or in swap) and expire by
themselves. Called through ctypes' syscall(), so it needs neither libkeyutils nor keyctl.
"""

from __future__ import annotations

import ctypes
import errno
import os

# (add_key, keyctl) system call numbers by machine (uname -m).
SYSCALLS = {
    "x86_64": (248, 250),
    "i386": (286, 288),
    "i686": (286, 288),
    "aarch64": (217, 219),
    "riscv64": (217, 219),
    "loongarch64": (217, 219),
    "armv6l": (309, 311),
    "armv7l": (309, 311),
    "armv8l": (309, 311),
    "ppc64le": (269, 271),
    "ppc64": (269, 271),
    "s390x": (278, 280),
}
USER_KEYRING = -4  # KEY_SPEC_USER_KEYRING
KEYCTL_UPDATE, KEYCTL_SETPERM, KEYCTL_UNLINK, KEYCTL_SEARCH, KEYCTL_READ = 2, 5, 9, 10, 11
KEYCTL_SET_TIMEOUT, KEYCTL_INVALIDATE = 15, 21
# This uid may view, read, write, search, link and set attributes; nobody else, and no
# possessor as such: a process of another uid can possess our keys through a session keyring
# it inherited (sudo -u, setpriv, su without pam_keyinit), and possessors may read by default.
PRIVATE = 0x003F0000
GONE = (errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREVOKED)


class UserKeyring:
    """Keys of type "user" in this uid's user keyring, found by their description."""

    where = "the kernel user keyring"

    def __init__(self):
        numbers = SYSCALLS.get(os.uname().machine)
        if numbers is None:
            raise OSError(errno.ENOSYS, f"no keyctl call known for {os.uname().machine}")
        self._add_key, self._keyctl = numbers
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long

    def _call(self, number: int, *args) -> int:
        result = self._libc.syscall(number, *args)
        if result < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        return result

    def _ctl(self, operation: int, *args) -> int:
        return self._call(self._keyctl, ctypes.c_long(operation), *args)

    def _find(self, description: str) -> int | None:
        try:
            return self._ctl(
                KEYCTL_SEARCH,
                ctypes.c_long(USER_KEYRING),
                b"user",
                description.encode(),
                ctypes.c_long(0),
            )
        except OSError as e:
            if e.errno in GONE:
                return None
            raise

    def get(self, description: str) -> bytes | None:
        key = self._find(description)
        if key is None:
            return None
        size = 256
        while True:
            buf = ctypes.create_string_buffer(size)
            try:
                n = self._ctl(KEYCTL_READ, ctypes.c_long(key), buf, ctypes.c_long(size))
            except OSError as e:
                if e.errno in GONE:
                    return None
                raise
            if n <= size:
                return buf.raw[:n]
            size = n

    def put(self, description: str, payload: bytes, ttl: int) -> None:
        """Store `payload`, replacing any key of that description; it vanishes after `ttl` s."""
        key = self._find(description)
        if key is None:
            # A placeholder first: the payload goes in only once the key is private.
            key = self._call(
                self._add_key,
                b"user",
                description.encode(),
                b"-",
                ctypes.c_size_t(1),
                ctypes.c_long(USER_KEYRING),
            )
        self._ctl(KEYCTL_SETPERM, ctypes.c_long(key), ctypes.c_ulong(PRIVATE))
        self._ctl(KEYCTL_UPDATE, ctypes.c_long(key), payload, ctypes.c_size_t(len(payload)))
        self._ctl(KEYCTL_SET_TIMEOUT, ctypes.c_long(key), ctypes.c_ulong(ttl))

    def delete(self, description: str) -> bool:
        key = self._find(description)
        if key is None:
            return False
        try:
            self._ctl(KEYCTL_INVALIDATE, ctypes.c_long(key))
        except OSError:  # kernels before 3.5
            self._ctl(KEYCTL_UNLINK, ctypes.c_long(key), ctypes.c_long(USER_KEYRING))
        return True
