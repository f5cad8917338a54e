"""Whether `run --sandbox` can run here, and if not, the fix: for run and for doctor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from authsome.sandbox import seccomp

INSTALL = "install bubblewrap: apt install bubblewrap (dnf or pacman: bubblewrap)"
# (sysctl file, the value that stops bwrap, what that means, the fix); the first two matter
# only to a user other than root.
SYSCTLS = (
    ("kernel/unprivileged_userns_clone", "0", True,
     "unprivileged user namespaces are off (kernel.unprivileged_userns_clone=0)",
     "sudo sysctl -w kernel.unprivileged_userns_clone=1"),
    ("kernel/apparmor_restrict_unprivileged_userns", "1", True,
     "AppArmor restricts unprivileged user namespaces",
     "give bwrap an AppArmor profile that allows userns (as Ubuntu's bwrap-userns-restrict"
     " does), or sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
    ("user/max_user_namespaces", "0", False,
     "user namespaces are off (user.max_user_namespaces=0)",
     "sudo sysctl -w user.max_user_namespaces=15000"),
)  # fmt: skip
PROBE = ("--unshare-all", "--die-with-parent", "--bind", "/", "/", "--proc", "/proc",
         "--dev", "/dev", "true")  # fmt: skip


def unavailable(environ, platform: str = sys.platform, machine=None) -> tuple[str, str] | None:
    """(what, fix) when the sandbox cannot be had here at all, without trying; else None."""
    if not platform.startswith("linux"):
        return (
            "--sandbox runs on Linux only (bubblewrap's namespaces)",
            "run without --sandbox, knowing that --proxy alone keeps the credential out of"
            " the command's environment but does not stop a hostile command",
        )
    machine = machine or os.uname().machine
    if not seccomp.supported(machine):
        return (f"--sandbox does not know the system calls of {machine}", "run without --sandbox")
    if shutil.which("bwrap", path=environ.get("PATH")) is None:
        return "bubblewrap (bwrap) is not installed", INSTALL
    return None


def userns_problem(proc_sys: str = "/proc/sys", uid=None) -> tuple[str, str] | None:
    """(what, fix) of the sysctl that keeps bwrap from making a user namespace, if one does."""
    uid = os.geteuid() if uid is None else uid
    for name, stops, unprivileged_only, what, fix in SYSCTLS:
        if unprivileged_only and uid == 0:
            continue
        try:
            with open(os.path.join(proc_sys, name), encoding="ascii") as f:
                value = f.read().strip()
        except OSError:
            continue
        if value == stops:
            return what, fix
    return None


def fix_for(environ) -> str:
    """How to make bwrap start, when it did not."""
    found = userns_problem()
    if found:
        return found[1]
    return (
        "allow user namespaces here (sysctl user.max_user_namespaces,"
        " kernel.unprivileged_userns_clone; in a container, one that permits them)"
    )


def probe(environ) -> dict:
    """Start a real sandbox (bwrap ... true): doctor's check. usable, detail, fix."""
    why = unavailable(environ)
    if why:
        return {"usable": False, "detail": why[0], "fix": why[1]}
    bwrap = shutil.which("bwrap", path=environ.get("PATH"))
    if bwrap is None:  # unavailable() found it; it went in between
        return {"usable": False, "detail": "bwrap is not on PATH", "fix": INSTALL}
    try:
        out = subprocess.run([bwrap, *PROBE], capture_output=True, text=True, timeout=10)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"usable": False, "detail": f"bwrap could not run ({e})", "fix": INSTALL}
    if out.returncode == 0:
        return {"usable": True, "detail": f"bwrap at {bwrap}", "fix": None}
    said = (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]
    known = userns_problem()
    return {
        "usable": False,
        "detail": known[0] if known else f"bwrap failed: {said[:200]}",
        "fix": known[1] if known else fix_for(environ),
    }
