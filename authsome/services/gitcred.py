"""`authsome git-credential` and `authsome setup-git`: git's credential-helper protocol.

git writes `key=value` lines and a blank line to the helper's stdin and reads the same back
(gitcredentials(7), `git credential`). Only `get` answers; the token comes from fresh(), the
path `authsome token` takes.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from authsome.errors import AuthFailed, ConfigError, UsageError
from authsome.services.program import self_argv
from authsome.services.serving import hosts_of, serving
from authsome.shells import posix
from authsome.storage.connections import display_ref, parse_ref

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def read_attributes(stream) -> dict[str, str]:
    """The attributes git sent: `key=value` lines up to a blank line or the end."""
    attrs: dict[str, str] = {}
    for line in stream:
        line = line.rstrip("\r\n")
        if not line:
            break
        key, sep, value = line.partition("=")
        if sep:
            attrs[key] = value  # a repeated key: the last counts, as in git
    return attrs


def answer(ctx: Context, operation: str, attrs: dict[str, str], ref: str | None = None) -> str:
    """What git reads back: for `get` of a served https host, the credential; else nothing.

    `store` has nothing to keep, and `erase` (git was refused) discards nothing: the next
    `get` refreshes the token when it is due."""
    from authsome.services.audit import record
    from authsome.services.refresh import credential, fresh

    host = attrs.get("host", "")
    if operation != "get" or attrs.get("protocol") != "https" or not host:
        return ""
    found = serving(ctx, "git", host, ref, "setup-git")
    if found is None:
        return ""
    provider, conn_name = found
    conn = fresh(ctx, provider.name, conn_name)
    secret = credential(conn)
    record(ctx, "git-credential", provider.name, conn_name, host=host)
    if any(ch in secret for ch in "\r\n\0"):
        # git would read the rest as more attributes.
        raise AuthFailed(f"the token of {provider.name} cannot be sent to git (a line break)")
    lines = [
        "protocol=https",
        f"host={host}",
        f"username={provider.git.username}",
        f"password={secret}",
    ]
    if conn.expires_at is not None:
        lines.append(f"password_expiry_utc={int(conn.expires_at)}")
    return "\n".join(lines) + "\n"


def helper_line(ref: str | None) -> str:
    """The `credential.helper` value that calls this authsome (git runs it with sh)."""
    program = " ".join(posix.quote(w) for w in self_argv())
    return f"!{program} git-credential" + (f" --connection {ref}" if ref else "")


def targets(ctx: Context, refs: list[str]) -> list[tuple[str, str | None]]:
    """(host, pinned ref or None) for each host of the named providers, or of every provider
    with a connected login when none is named."""
    out = []
    if not refs:
        connected = {e.get("provider") for e in ctx.connections.list()}
        refs = [p.name for p in ctx.registry.all() if p.git and p.name in connected]
        if not refs:
            raise UsageError(
                "no connected login serves git", "log in first, e.g. authsome login github"
            )
    for given in refs:
        name, conn = parse_ref(given)  # checked names: the ref goes into a shell command
        hosts = hosts_of(ctx.registry.get(name), "git")
        if not hosts:
            raise UsageError(f"{name} lists no git hosts", "see: authsome inspect " + name)
        pinned = display_ref(name, conn) if ":" in given else None
        out += [(host, pinned) for host in hosts]
    return out


def setup_git(ctx: Context, refs: list[str], unset: bool) -> list[str]:
    """Write (or with `unset`, remove) the helper for each host in the global git config."""
    git = shutil.which("git", path=ctx.environ.get("PATH", os.defpath))
    if git is None:
        raise ConfigError("git is not installed", "install git, then run this again")
    done = []
    for host, ref in targets(ctx, refs):
        key = f"credential.https://{host}.helper"
        if unset:
            _git(ctx, git, "--unset-all", key)
            done.append(f"removed authsome as the git credential helper for {host}")
            continue
        # An empty value first: helpers configured before (a keychain, a store) stop here.
        _git(ctx, git, "--replace-all", key, "")
        _git(ctx, git, "--add", key, helper_line(ref))
        done.append(f"git now asks authsome for {host}" + (f" ({ref})" if ref else ""))
    return done


def _git(ctx: Context, git: str, *args: str) -> None:
    from authsome.services.childenv import scrub

    out = subprocess.run(
        [git, "config", "--global", *args],
        env=scrub(ctx.environ, ctx.registry),  # git needs no key to authsome's store
        capture_output=True,
        text=True,
        timeout=30,
    )
    # --unset-all of a key that is not there exits 5: already what was asked.
    if out.returncode not in (0, 5 if args[0] == "--unset-all" else 0):
        why = (out.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"git config failed ({why})", "check ~/.gitconfig")
