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
PROCESS_KEYRING, USER_KEYRING = -2, -4  # KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_USER_KEYRING
KEYCTL_UPDATE, KEYCTL_SETPERM, KEYCTL_DESCRIBE, KEYCTL_LINK = 2, 5, 6, 8
KEYCTL_UNLINK, KEYCTL_SEARCH, KEYCTL_READ = 9, 10, 11
KEYCTL_SET_TIMEOUT, KEYCTL_INVALIDATE = 15, 21
# This uid may view, read, write, search, link and set attributes; nobody else, and no
# possessor as such: a process of another uid can possess our keys through a session keyring
# it inherited (sudo -u, setpriv, su without pam_keyinit), and possessors may read by default.
PRIVATE = 0x003F0000
GONE = (errno.ENOKEY, errno.EKEYEXPIRED, errno.EKEYREVOKED)
SOMEONE_ELSE = -1  # the owner of a key we may find but not describe: never this uid


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

    def put(self, description: str, payload: bytes, ttl: int) -> int | None:
        """Store `payload` in place of any key of that description; it vanishes after `ttl` s.

        Returns the uid that owned a key it replaced when that was not this uid: a process of
        another uid that shares our session keyring (sudo -u) may write into our user keyring.
        """
        old = self._find(description)
        owner = self._owner(old) if old is not None else None
        # Always a new key, made private in our process keyring before the payload goes in and
        # only then linked into @u: the link displaces any key of that name, also one another
        # uid put there first, which we must not write into (that uid owns it, and reads it).
        key = self._call(
            self._add_key,
            b"user",
            description.encode(),
            b"-",
            ctypes.c_size_t(1),
            ctypes.c_long(PROCESS_KEYRING),
        )
        try:
            self._ctl(KEYCTL_SETPERM, ctypes.c_long(key), ctypes.c_ulong(PRIVATE))
            self._ctl(KEYCTL_UPDATE, ctypes.c_long(key), payload, ctypes.c_size_t(len(payload)))
            self._ctl(KEYCTL_SET_TIMEOUT, ctypes.c_long(key), ctypes.c_ulong(ttl))
            self._ctl(KEYCTL_LINK, ctypes.c_long(key), ctypes.c_long(USER_KEYRING))
        finally:
            import contextlib  # here: `token` imports this module and never needs contextlib

            with contextlib.suppress(OSError):
                self._ctl(KEYCTL_UNLINK, ctypes.c_long(key), ctypes.c_long(PROCESS_KEYRING))
        return owner if owner is not None and owner != os.getuid() else None

    def _owner(self, key: int) -> int | None:
        """The uid that owns `key` (SOMEONE_ELSE when we may not see it); None when it is gone."""
        buf = ctypes.create_string_buffer(4096)
        try:
            n = self._ctl(KEYCTL_DESCRIBE, ctypes.c_long(key), buf, ctypes.c_long(len(buf)))
            return int(buf.raw[: min(n, len(buf))].split(b";")[1])
        except OSError as e:
            return None if e.errno in GONE else SOMEONE_ELSE
        except (IndexError, ValueError):
            return SOMEONE_ELSE

    def delete(self, description: str) -> bool:
        key = self._find(description)
        if key is None:
            return False
        try:
            self._ctl(KEYCTL_INVALIDATE, ctypes.c_long(key))
        except OSError:  # kernels before 3.5
            self._ctl(KEYCTL_UNLINK, ctypes.c_long(key), ctypes.c_long(USER_KEYRING))
        return True
