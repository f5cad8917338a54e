"""The sandbox's seccomp filter, a classic BPF program assembled here.

It makes keyctl, add_key and request_key fail with EPERM: a user namespace does not hide the
kernel keyring (its @u is a new, empty one, but a key listed in /proc/keys is still read by
its serial, as the uid that owns it), and that keyring holds `authsome unlock`'s session key.
It also refuses the TIOCSTI and TIOCLINUX ioctls, which would type into the terminal's shell
outside the sandbox once the command ends. Everything else is allowed.

Assembled by hand (some 30 instructions, checked by tests/test_sandbox_units.py with a small
interpreter) rather than with libseccomp: its Python binding is a system package (Debian's
python3-seccomp), not on PyPI, so a venv or pipx install could not use it.
"""

from __future__ import annotations

import errno
import os
import struct

# Classic BPF opcodes (linux/bpf_common.h) and seccomp's actions (linux/seccomp.h).
LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
RET = 0x06  # BPF_RET | BPF_K
ALLOW = 0x7FFF0000
KILL_PROCESS = 0x80000000
ERRNO = 0x00050000
NR, ARCH, ARG1 = 0, 4, 24  # offsets in struct seccomp_data; ARG1: the low half (little-endian)
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
X32_BIT = 0x40000000

# An ABI's audit arch, its (add_key, request_key, keyctl) numbers, and ioctl's number.
ABIS = {
    "x86_64": (0xC000003E, (248, 249, 250), 16),
    "i386": (0x40000003, (286, 287, 288), 54),
    "aarch64": (0xC00000B7, (217, 218, 219), 29),
    "arm": (0x40000028, (309, 310, 311), 54),
    "riscv64": (0xC00000F3, (217, 218, 219), 29),
}
# The ABIs a process may call the kernel through on each machine (uname -m). Others (x32, or a
# machine not listed) are killed: their numbers are not checked.
MACHINES = {
    "x86_64": ("x86_64", "i386"),
    "aarch64": ("aarch64", "arm"),
    "riscv64": ("riscv64",),
}


def supported(machine: str | None = None) -> bool:
    return (machine or os.uname().machine) in MACHINES


def _abi(name: str, skip: str) -> list:
    """One ABI's checks, jumping to the label `skip` when the call is not of this ABI."""
    arch, keys, ioctl = ABIS[name]
    code: list = [(LD_ABS, 0, 0, ARCH), (JEQ, 0, skip, arch), (LD_ABS, 0, 0, NR)]
    if name == "x86_64":
        code.append((JGE, "kill", 0, X32_BIT))
    code += [(JEQ, "deny", 0, number) for number in keys]
    return code + [
        (JEQ, 0, "allow", ioctl),
        (LD_ABS, 0, 0, ARG1),
        (JEQ, "deny", 0, TIOCSTI),
        (JEQ, "deny", "allow", TIOCLINUX),
    ]


def program(machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions; a jump names a label until resolved."""
    names = MACHINES[machine or os.uname().machine]
    code: list = []
    for i, name in enumerate(names):
        code += [f"abi{i}", *_abi(name, f"abi{i + 1}")]
    code += [f"abi{len(names)}", "kill", (RET, 0, 0, KILL_PROCESS)]
    code += ["deny", (RET, 0, 0, ERRNO | errno.EPERM), "allow", (RET, 0, 0, ALLOW)]
    labels, at = {}, 0
    for item in code:
        if isinstance(item, str):
            labels[item] = at
        else:
            at += 1
    insns = [item for item in code if not isinstance(item, str)]
    return [
        (op, _jump(jt, labels, at), _jump(jf, labels, at), k)
        for at, (op, jt, jf, k) in enumerate(insns)
    ]


def _jump(target, labels: dict[str, int], at: int) -> int:
    if isinstance(target, int):
        return target
    offset = labels[target] - at - 1
    if not 0 <= offset <= 255:
        raise ValueError(f"jump to {target} out of reach")
    return offset


def compiled(machine: str | None = None) -> bytes:
    """The program as bwrap's --seccomp reads it: struct sock_filter, in native byte order."""
    return b"".join(struct.pack("=HBBI", *insn) for insn in program(machine))
