"""`authsome doctor`: what authsome would use here, and what is wrong with it."""

from __future__ import annotations

import os
import time

from authsome import __version__
from authsome.errors import AuthsomeError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def diagnose(ctx: Context, fix: bool = False) -> dict:
    """A report as plain data; report['problems'] is empty when all is well."""
    start = time.perf_counter()
    problems: list[str] = []
    report: dict = {"version": __version__}
    try:
        home = ctx.home
    except AuthsomeError as e:
        problems.append(str(e))
        return {**report, "ok": False, "problems": problems}
    report["home"] = _home(home, fix, problems)

    report["keychain"] = _keychain(ctx, problems)
    report["store"] = _store(ctx, problems)
    if report["store"].get("shared"):
        report["shared"] = _shared(ctx, problems)
    report["file"] = _vault(ctx, problems)
    if report["store"].get("name"):
        report["index"] = _index(ctx, fix, problems)
    report["sessions"] = _sessions(ctx)
    from authsome.services import helpercheck

    report["docker"] = helpercheck.docker(problems)
    report["sandbox"] = _sandbox(ctx)
    report["problems"] = problems
    report["ok"] = not problems
    report["seconds"] = round(time.perf_counter() - start, 4)
    return report


def _keychain(ctx: Context, problems: list[str]) -> dict:
    probe = ctx.keychain_probe
    if probe.facts.get("trusted") is False:  # someone else's bus or keyring in our environment
        fix = probe.fix or "check DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR"
        problems.append(f"{probe.detail}. {fix[0].upper()}{fix[1:]}")
    return {
        "name": probe.keychain,
        "usable": probe.usable,
        "detail": probe.detail,
        "probe_ms": round(probe.seconds * 1000, 2),
        **probe.facts,
    }


def _store(ctx: Context, problems: list[str]) -> dict:
    try:
        choice = ctx.store_choice
    except AuthsomeError as e:
        problems.append(str(e))
        return {"name": None, "error": str(e)}
    return {
        "name": choice.store.name,
        "source": choice.source,
        "reason": choice.reason,
        "where": choice.store.describe(),
        "shared": getattr(choice.store, "shared", False),
    }


def _shared(ctx: Context, problems: list[str]) -> dict:
    """The shared store's server, its token and what that token may do there."""
    info = ctx.store_choice.store.status()
    if "cleartext" in info:
        problems.append(info["cleartext"])
    if "error" in info:
        problems.append(info["error"])
        return info
    cannot = [what for what, allowed in (info.get("can") or {}).items() if not allowed]
    if cannot:
        problems.append(
            f"the Vault token may not {' or '.join(cannot)} under {info['mount']}/"
            f"{info['prefix']}. Ask for a policy that grants it (README, Many machines)"
        )
    return info


def _home(home, fix: bool, problems: list[str]) -> dict:
    info = {"path": home.path, "source": home.source, "exists": os.path.exists(home.path)}
    if info["exists"]:
        info["mode"] = f"{os.stat(home.path).st_mode & 0o777:04o}"
    loose = home.fix_permissions() if fix else home.permission_problems()
    info["loose_modes"] = [str(p) for p in loose]
    info["fixed"] = bool(fix and loose)
    if loose and not fix:
        problems.append(
            f"{len(loose)} path(s) in {home.path} are open to others. Run: authsome doctor --fix"
        )
    return info


def _index(ctx: Context, fix: bool, problems: list[str]) -> dict:
    """Does the index agree with the store, and is any save waiting in the journal?"""
    info: dict = {"path": str(ctx.home.index_file)}
    connections = ctx.connections
    pending = connections.journal.pending_names()
    info["journal"] = pending
    try:
        if fix:
            connections.finish_journal()
            info["fixed"] = connections.reconcile()
            return info
        info.update(connections.drift())
    except AuthsomeError as e:  # a damaged index included
        problems.append(str(e))
        return info
    if info["missing"] or info["stale"] or pending:
        problems.append(
            f"the index and the store disagree ({len(info['missing'])} missing,"
            f" {len(info['stale'])} stale, {len(pending)} save(s) waiting in the journal)."
            " Run: authsome doctor --fix"
        )
    return info


def _vault(ctx: Context, problems: list[str]) -> dict:
    # The vault is reported whichever store is chosen: a fallback may have left one behind.
    info = ctx.vault.status()
    if "error" in info:
        problems.append(info["error"])
    return info


def _sessions(ctx: Context) -> dict:
    from authsome import settings

    in_runtime = settings.runtime_dir(ctx.environ) is not None
    # Without a private $XDG_RUNTIME_DIR (a tmpfs emptied at logout), session files go in the
    # home, on disk: an unlocked session then survives a reboot until its --ttl runs out.
    why_not = ctx.sessions.no_keyring or None
    if ctx.sessions.keyring is not None:
        try:
            ctx.sessions.keyring.get("authsome:probe")  # blocked calls fail (seccomp: EPERM)
        except OSError as e:
            why_not = e.strerror or str(e)
    return {
        "folder": str(ctx.sessions.folder),
        "survives_reboot": not in_runtime,
        "shared": why_not is None,
        "not_shared_because": why_not,
    }


def _sandbox(ctx) -> dict:
    """Whether `run --proxy --sandbox` can run here: said, not a problem, as few need it."""
    from authsome.sandbox.checks import probe

    return probe(ctx.environ)


def render(report: dict) -> str:
    """The report for people."""
    lines = [f"authsome {report['version']}"]
    for key, section in _SECTIONS:
        if report.get(key):
            lines += section(report[key])
    lines += [f"problem:   {p}" for p in report["problems"]]
    lines.append("ok" if report["ok"] else f"{len(report['problems'])} problem(s) found")
    return "\n".join(lines)


def _render_home(home: dict) -> list[str]:
    state = f"mode {home['mode']}" if home.get("exists") else "not created yet"
    lines = [f"home:      {home['path']} ({state}; from {home['source']})"]
    for loose in home["loose_modes"]:
        lines.append(f"           {'fixed: ' if home['fixed'] else 'loose: '}{loose}")
    return lines


def _render_keychain(kc: dict) -> list[str]:
    lines = []
    dbus = kc.get("dbus")
    if dbus is not None:
        bus = "session bus found" if dbus else "no session bus"
        lines.append(f"d-bus:     {bus}{', not trusted' if kc.get('trusted') is False else ''}")
        found = kc.get("secret_service")
        if found is not None:  # else the bus was not asked, and the next line says why
            lines.append(f"secrets:   {'Secret Service present' if found else 'no Secret Service'}")
    verdict = "usable" if kc["usable"] else "not usable"
    lines.append(f"keychain:  {kc['name']} {verdict}: {kc['detail']} ({kc['probe_ms']} ms)")
    return lines


def _render_store(store: dict) -> list[str]:
    if not store.get("name"):
        return []
    return [
        f"store:     {store['name']}, {store['where']} (chosen by {store['source']}:"
        f" {store['reason']})"
    ]


def _render_shared(shared: dict) -> list[str]:
    sealed = shared.get("sealed")
    state = (
        {True: "sealed", False: "unsealed"}.get(sealed, "state unknown")
        if isinstance(sealed, bool)
        else "state unknown"
    )
    where = f"; namespace {shared['namespace']}" if shared.get("namespace") else ""
    lines = [
        f"server:    {shared['address']} ({state}{where})",
        f"kv:        mount {shared['mount']}/, prefix {shared['prefix']}/",
    ]
    if "error" in shared:
        return lines
    lines.append(
        f"token:     from {shared['token_source']}; {_ttl(shared['token_ttl'])};"
        f" policies: {', '.join(shared['policies']) or 'none'}"
    )
    can = shared.get("can") or {}
    lines.append("access:    " + ", ".join(f"{w} {'yes' if ok else 'NO'}" for w, ok in can.items()))
    return lines


def _ttl(seconds) -> str:
    if not seconds:
        return "never expires"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h {rest // 60:02d}m left" if hours else f"{rest // 60}m {rest % 60:02d}s left"


def _render_vault(vault: dict) -> list[str]:
    if not vault["exists"]:
        return [f"file:      {vault['path']} (none yet)"]
    if "error" in vault:
        return [f"file:      {vault['path']} (unreadable)"]
    kdf = vault["kdf"]
    return [
        f"file:      {vault['path']} ({vault['records']} record(s); "
        f"{kdf['name']} N={kdf['n']} r={kdf['r']} p={kdf['p']}; "
        f"session: {vault['session']})"
    ]


def _render_index(index: dict) -> list[str]:
    return [f"index:     fixed: {change}" for change in index.get("fixed", [])]


def _render_sessions(sessions: dict) -> list[str]:
    where = (
        "on disk, as there is no private XDG_RUNTIME_DIR: an unlocked session outlives "
        "a reboot until its --ttl ends"
        if sessions["survives_reboot"]
        else "in XDG_RUNTIME_DIR: gone at logout"
    )
    lines = [f"sessions:  {sessions['folder']} ({where})"]
    if sessions["shared"]:
        lines.append("unlock:    for every shell of this login (the kernel user keyring)")
    else:
        lines.append(
            "unlock:    for one shell at a time: the kernel keyring cannot be used here"
            f" ({sessions['not_shared_because']})"
        )
    return lines


def _render_sandbox(sandbox: dict) -> list[str]:
    if sandbox["usable"]:
        return [f"sandbox:   run --proxy --sandbox can run here ({sandbox['detail']})"]
    fix = sandbox["fix"]
    return [f"sandbox:   run --proxy --sandbox cannot run here: {sandbox['detail']}."
            f" {fix[0].upper()}{fix[1:]}"]  # fmt: skip


_SECTIONS = (
    ("home", _render_home),
    ("keychain", _render_keychain),
    ("store", _render_store),
    ("shared", _render_shared),
    ("file", _render_vault),
    ("index", _render_index),
    ("sessions", _render_sessions),
    ("sandbox", _render_sandbox),
)
