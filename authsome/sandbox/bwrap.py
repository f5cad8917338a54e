"""bubblewrap's arguments for the sandbox, from what to hide: a pure function.

The child sees the user's filesystem as it is, writable, in namespaces of its own (user, pid,
network with only loopback, IPC, UTS, cgroup), with /proc and /dev of its own; each hidden
folder is an empty tmpfs and each hidden file or socket /dev/null; `keep` is bound back in
read-only (the run's CA bundle, inside its hidden run folder).
"""

from __future__ import annotations

BASE = (
    "--unshare-all",  # user (where allowed: root needs none), pid, net, ipc, uts, cgroup
    "--die-with-parent",
    "--as-pid-1",  # the forwarder is pid 1 and reaps; without it bwrap adds a process
    "--bind", "/", "/",
    "--dev", "/dev",
    "--perms", "1777", "--tmpfs", "/dev/shm",  # noqa: S108 - a tmpfs of the sandbox's own
    "--proc", "/proc",
)  # fmt: skip


def arguments(hidden, keep, cwd: str, seccomp_fd: int) -> list[str]:
    """bwrap's options (before the command): `hidden` is (path, is a folder) pairs."""
    args = list(BASE)
    for path, is_dir in hidden:
        args += ["--perms", "0700", "--tmpfs", path] if is_dir else ["--ro-bind", "/dev/null", path]
    for path in keep:
        args += ["--ro-bind", path, path]
    return [*args, "--seccomp", str(seccomp_fd), "--chdir", cwd]
