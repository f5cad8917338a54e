"""What the sandboxed child may not see or hold.

Two kinds of paths are hidden: what opens a credential (authsome's home and unlocked sessions,
the keychain's bus and files, a Vault token), and what runs commands for the child outside
the sandbox, where its network is not cut (the user's systemd and D-Bus, tmux, screen, a
docker socket). `openers` lists them from the environment, pure; `existing` turns that list
into the mounts to make, from what is on disk.
"""

from __future__ import annotations

import glob
import os

# Dropped from the child's environment, besides what run --proxy drops already.
DROPPED = ("DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK")
DROPPED_PREFIXES = ("AUTHSOME_", "VAULT_", "BAO_")
# Files named by the variables that unlock a store: a passphrase, an AppRole's ids.
UNLOCK_FILES = ("AUTHSOME_PASSPHRASE_FILE", "VAULT_ROLE_ID_FILE", "VAULT_SECRET_ID_FILE")
# In the user's home: the old keyrings' files, a Vault token, gpg-agent's old sockets.
IN_HOME = (".gnome2/keyrings", ".kde/share/apps/kwallet", ".kde4/share/apps/kwallet",
           ".vault-token", ".gnupg/S.gpg-agent*")  # fmt: skip
TMP = "/tmp"  # noqa: S108 - where tmux's sockets are, to hide them
DBUS_TMP = "/tmp/dbus-*"  # noqa: S108 - a session bus's socket when not in the runtime folder
# Services that run commands, or give root, outside the sandbox.
SYSTEM_SOCKETS = ("/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock")


def environ_for(environ: dict[str, str], ssh_agent: bool = False) -> dict[str, str]:
    """The child's environment less the addresses of what the sandbox hides."""
    keep = {"SSH_AUTH_SOCK"} if ssh_agent else set()
    return {
        k: v
        for k, v in environ.items()
        if (k not in DROPPED or k in keep) and not k.startswith(DROPPED_PREFIXES)
    }


def _bus_paths(address: str) -> list[str]:
    """The socket paths in a D-Bus address (an abstract socket needs no hiding: the child's
    network namespace has none of the host's)."""
    found = []
    for part in address.split(";"):
        transport, _, rest = part.partition(":")
        for pair in rest.split(",") if transport == "unix" else ():
            key, _, value = pair.partition("=")
            if key == "path" and value:
                found.append(value)
    return found


def openers(environ: dict[str, str], uid: int, home: str, sessions: str, ssh_agent=False):
    """Paths (and globs) to hide, whether or not they exist: `home` is authsome's home,
    `sessions` its unlocked sessions' folder."""
    user_home = environ.get("HOME") or os.path.expanduser("~")
    data = environ.get("XDG_DATA_HOME") or os.path.join(user_home, ".local", "share")
    # The user's runtime folder holds the D-Bus session socket, systemd's, gnome-keyring's,
    # KWallet's, gpg-agent's and a rootless docker's or podman's: all of it goes.
    found = [home, sessions, f"/run/user/{uid}", environ.get("XDG_RUNTIME_DIR")]
    found += [*_bus_paths(environ.get("DBUS_SESSION_BUS_ADDRESS", "")), DBUS_TMP]
    found += [os.path.join(data, "keyrings"), os.path.join(data, "kwalletd")]
    found += [os.path.join(user_home, p) for p in IN_HOME]
    found += [environ.get(v) for v in UNLOCK_FILES]
    if not ssh_agent:
        found.append(environ.get("SSH_AUTH_SOCK"))
    return [p for p in found + _runners(environ, uid, user_home) if p]


def _runners(environ: dict[str, str], uid: int, user_home: str) -> list[str]:
    """Sockets of what runs commands outside: tmux, screen, docker."""
    tmux = os.path.join(environ.get("TMUX_TMPDIR") or TMP, f"tmux-{uid}")
    screen = environ.get("SCREENDIR") or f"/run/screen/S-{environ.get('USER', '')}"
    found = [tmux, environ.get("TMUX", "").split(",")[0], screen]
    found += [os.path.join(user_home, ".screen"), *SYSTEM_SOCKETS]
    docker = environ.get("DOCKER_HOST", "")
    return found + ([docker.removeprefix("unix://")] if docker.startswith("unix://") else [])


def existing(paths) -> list[tuple[str, bool]]:
    """(real path, is a folder) of each path that exists, globs expanded; a path inside a
    hidden folder is left out (it is gone with the folder), and so is "/"."""
    real = {}
    for pattern in filter(None, paths):
        for path in glob.glob(os.path.expanduser(pattern)) if "*" in pattern else [pattern]:
            path = os.path.realpath(os.path.expanduser(path))
            if path != "/" and os.path.lexists(path):
                real[path] = os.path.isdir(path)
    folders = [p for p, is_dir in real.items() if is_dir]
    return sorted(
        (p, is_dir)
        for p, is_dir in real.items()
        if not any(p != f and p.startswith(f.rstrip("/") + "/") for f in folders)
    )


def hides(cwd: str, hidden) -> str | None:
    """The hidden folder that holds `cwd` (the child could not start there), if any."""
    cwd = os.path.realpath(cwd)
    for path, is_dir in hidden:
        if is_dir and (cwd == path or cwd.startswith(path.rstrip("/") + "/")):
            return path
    return None
