"""`authsome doctor`: what authsome would use here, and what is wrong with it."""

from __future__ import annotations

import contextlib
import time

from authsome import __version__
from authsome.errors import AuthsomeError


def diagnose(ctx, fix: bool = False) -> dict:
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

    probe = ctx.keychain_probe
    report["keychain"] = {
        "name": probe.keychain,
        "usable": probe.usable,
        "detail": probe.detail,
        "probe_ms": round(probe.seconds * 1000, 2),
        **probe.facts,
    }
    if probe.facts.get("trusted") is False:  # someone else's bus or keyring in our environment
        problems.append(
            f"{probe.detail}. Check DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR point at your"
            " own session"
        )
    try:
        choice = ctx.store_choice
        report["store"] = {
            "name": choice.store.name,
            "source": choice.source,
            "reason": choice.reason,
            "where": choice.store.describe(),
        }
    except AuthsomeError as e:
        problems.append(str(e))
        report["store"] = {"name": None, "error": str(e)}
    report["vault"] = _vault(ctx, problems)
    if report["store"].get("name"):
        report["index"] = _index(ctx, fix, problems)
    report["sessions"] = _sessions(ctx)
    report["problems"] = problems
    report["ok"] = not problems
    report["seconds"] = round(time.perf_counter() - start, 4)
    return report


def _home(home, fix: bool, problems: list[str]) -> dict:
    info = {"path": str(home.path), "source": home.source, "exists": home.path.exists()}
    if info["exists"]:
        info["mode"] = f"{home.path.stat().st_mode & 0o777:04o}"
    loose = home.fix_permissions() if fix else home.permission_problems()
    info["loose_modes"] = [str(p) for p in loose]
    info["fixed"] = bool(fix and loose)
    if loose and not fix:
        problems.append(
            f"{len(loose)} path(s) in {home.path} are readable by others. "
            "Run: authsome doctor --fix"
        )
    return info


def _index(ctx, fix: bool, problems: list[str]) -> dict:
    """Does the index agree with the store, and is any save waiting in the journal?"""
    from authsome.storage.index import IndexDamaged

    info: dict = {"path": str(ctx.home.index_file)}
    connections = ctx.connections
    pending = sorted(p.name for p in ctx.home.journal_dir.glob("*.pending"))
    info["journal"] = pending
    try:
        if fix:
            for name in pending:  # loading a connection finishes its journalled save
                provider, _, connection = name.removesuffix(".pending").partition("+")
                connections.find(provider, connection)
            info["fixed"] = connections.reconcile()
            return info
        names = set(connections.login_keys())
        try:
            entries = connections.index.read()
        except IndexDamaged as e:
            problems.append(str(e))
            return info
        mine = {k for k, e in entries.items() if e.get("backend") == connections.store.name}
        info["missing"] = sorted(names - mine)
        info["stale"] = sorted(mine - names)
    except AuthsomeError as e:
        problems.append(str(e))
        return info
    if info["missing"] or info["stale"] or pending:
        problems.append(
            f"the index and the store disagree ({len(info['missing'])} missing,"
            f" {len(info['stale'])} stale, {len(pending)} save(s) waiting in the journal)."
            " Run: authsome doctor --fix"
        )
    return info


def _vault(ctx, problems: list[str]) -> dict:
    from authsome.storage.file.store import FileStore

    path = ctx.home.vault_file
    info: dict = {"path": str(path), "exists": path.exists()}
    store = FileStore(path, ctx.home.lock_path("vault"), ctx.unlocker)
    try:
        doc = store.read()
    except AuthsomeError as e:
        problems.append(str(e))
        info["error"] = str(e)
        return info
    if doc is None:
        return info
    info["records"] = len(doc.records)
    info["kdf"] = {k: doc.kdf[k] for k in ("name", "n", "r", "p")}
    info["session"] = "none"
    shells = (
        ("this shell", ctx.environ.get("AUTHSOME_SESSION")),
        ("every shell, kernel keyring", ctx.sessions.shared_token(path)),
    )
    for where, token in shells:
        if not token:
            continue
        key = None
        with contextlib.suppress(AuthsomeError):
            key = ctx.sessions.open(token, path, doc.salt)
        if key is not None and store.verify(doc, key):
            info["session"] = f"unlocked for {where}"
            info["session_expires_at"] = ctx.sessions.expires_at(token)
            break
        info["session"] = "expired or invalid"
    return info


def _sessions(ctx) -> dict:
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


def render(report: dict) -> str:
    """The report for people."""
    lines = [f"authsome {report['version']}"]
    home = report.get("home")
    if home:
        state = f"mode {home['mode']}" if home.get("exists") else "not created yet"
        lines.append(f"home:      {home['path']} ({state}; from {home['source']})")
        for loose in home["loose_modes"]:
            lines.append(f"           {'fixed: ' if home['fixed'] else 'loose: '}{loose}")
    kc = report.get("keychain")
    if kc:
        dbus = kc.get("dbus")
        if dbus is not None:
            lines.append(f"d-bus:     {'session bus found' if dbus else 'no session bus'}")
            present = "Secret Service present" if kc.get("secret_service") else "no Secret Service"
            lines.append(f"secrets:   {present}")
        verdict = "usable" if kc["usable"] else "not usable"
        lines.append(f"keychain:  {kc['name']} {verdict}: {kc['detail']} ({kc['probe_ms']} ms)")
    store = report.get("store")
    if store and store.get("name"):
        lines.append(
            f"store:     {store['name']}, {store['where']} (chosen by {store['source']}:"
            f" {store['reason']})"
        )
    vault = report.get("vault")
    if vault:
        if not vault["exists"]:
            lines.append(f"vault:     {vault['path']} (none yet)")
        elif "error" in vault:
            lines.append(f"vault:     {vault['path']} (unreadable)")
        else:
            kdf = vault["kdf"]
            lines.append(
                f"vault:     {vault['path']} ({vault['records']} record(s); "
                f"{kdf['name']} N={kdf['n']} r={kdf['r']} p={kdf['p']}; "
                f"session: {vault['session']})"
            )
    index = report.get("index")
    if index:
        for change in index.get("fixed", []):
            lines.append(f"index:     fixed: {change}")
    sessions = report.get("sessions")
    if sessions:
        where = (
            "on disk, as there is no private XDG_RUNTIME_DIR: an unlocked session outlives "
            "a reboot until its --ttl ends"
            if sessions["survives_reboot"]
            else "in XDG_RUNTIME_DIR: gone at logout"
        )
        lines.append(f"sessions:  {sessions['folder']} ({where})")
        if sessions["shared"]:
            lines.append("unlock:    for every shell of this login (the kernel user keyring)")
        else:
            lines.append(
                "unlock:    for one shell at a time: the kernel keyring cannot be used here"
                f" ({sessions['not_shared_because']})"
            )
    for p in report["problems"]:
        lines.append(f"problem:   {p}")
    lines.append("ok" if report["ok"] else f"{len(report['problems'])} problem(s) found")
    return "\n".join(lines)
