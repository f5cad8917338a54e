"""`authsome run --proxy`: the child runs behind a local proxy that adds its credentials.

The child holds placeholders; the proxy asks fresh() for the real credential, again whenever
the one it holds nears expiry, so a child that runs for hours keeps working. The proxy lives
as long as the child, and the child's exit status and signals pass through.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading

from authsome.errors import AuthsomeError, UsageError
from authsome.storage.connections import display_ref, parse_ref

FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
# The terminal sends these to the whole foreground group, the child included: passing them on
# would deliver them twice.
FROM_TERMINAL = (signal.SIGINT, signal.SIGQUIT)


class Credential:
    """One named connection's header; fresh() is asked on first use and near expiry."""

    def __init__(self, ctx, ref: str, provider, lock: threading.Lock, argv0: str | None = None):
        from authsome.proxy.router import hosts_of, placeholder

        self.ctx, self.ref, self.provider, self._lock = ctx, ref, provider, lock
        self.argv0 = argv0  # the child's, for the audit log
        self.hosts = hosts_of(provider)
        self.placeholder = placeholder(provider.name)
        self._conn = None
        self._told: set[tuple[str, str]] = set()  # failures already said on stderr

    def header(self) -> tuple[str, str, str]:
        """(header name, header value, bare credential), for the proxy's threads."""
        from authsome.proxy.router import credential_header
        from authsome.services.refresh import credential, fresh, needs_refresh

        with self._lock:  # one context, many threads: its store and client are not shared
            conn = self._conn
            if conn is None or needs_refresh(conn, self.ctx.clock(), self.ctx.refresh_margin):
                conn = self._conn = fresh(self.ctx, self.ref)
            name, value = credential_header(self.provider, conn.secrets)
            return name, value, credential(conn)

    def done(self, request: dict[str, str], status: int | None = None, failed=None) -> None:
        """Log a signed request (method, host:port, path) once its answer came (`status`) or
        it never will (`failed`: why; an AuthsomeError, the child got 502, is also said on
        stderr, once for each host and reason)."""
        from authsome.services import audit

        why = getattr(failed, "what", failed)
        outcome = {"status": status} if failed is None else {"failed": why}
        with self._lock:
            conn = self._conn
            line = {**request, **outcome, "argv0": self.argv0}
            audit.record(self.ctx, "proxy", conn.provider, conn.connection, **line)
            if isinstance(failed, AuthsomeError) and (request["host"], why) not in self._told:
                self._told.add((request["host"], why))
                fix = f" {failed.fix[0].upper()}{failed.fix[1:]}." if failed.fix else ""
                self.ctx.io.say(
                    f"authsome: {self.argv0}'s {request['method']} to {request['host']} got 502"
                    f" from the proxy: {why}.{fix}"
                )

    def variables(self) -> list[str]:
        found = list(self.provider.export_env.values())
        if self.provider.api_key and self.provider.api_key.env_var:
            found.append(self.provider.api_key.env_var)
        return found


def _targets(ctx, names, argv0: str) -> dict[str, Credential]:
    from authsome.services.env import default_refs

    lock, targets = threading.Lock(), {}
    for ref in names or default_refs(ctx):
        provider_name, conn_name = parse_ref(ref)
        hint = display_ref(provider_name, conn_name)
        if provider_name in targets:
            raise UsageError(
                f"{targets[provider_name].ref} and {hint} use the same hosts",
                "name one connection per provider",
            )
        target = Credential(ctx, hint, ctx.registry.get(provider_name), lock, argv0)
        if not target.hosts:
            raise UsageError(
                f"{provider_name} lists no API hosts, so the proxy cannot tell where its"
                " credential goes",
                f'add "hosts" to its provider file, or run without --proxy: authsome run {hint}',
            )
        target.header()  # not logged in, or expired: say so before the command starts
        targets[provider_name] = target
    return targets


def run_proxied(ctx, names: list[str], command: list[str], sandbox=None) -> int:
    """Run `command` behind the proxy; its exit status (a signal is raised again here).
    `sandbox` (services.sandboxrun.Sandbox): run it in one."""
    from authsome.proxy import environ as child
    from authsome.proxy.authority import Authority
    from authsome.proxy.server import Proxy, upstream_context
    from authsome.services.childenv import scrub

    if sandbox is not None:  # said before any refresh: the command will not run here
        from authsome.services.sandboxrun import require_sandbox

        require_sandbox(ctx.environ)
    # The proxy refreshes for as long as the child lives, from threads; the first refresh, made
    # here before they start, keeps its failure in this process's memory too (refreshfail).
    ctx.refresh_in_helper = False
    targets = _targets(ctx, names, command[0])
    hosts = [h for t in targets.values() for h in t.hosts]
    placeholders = {v: t.placeholder for t in targets.values() for v in t.variables()}
    authority = Authority(hosts)
    proxy = Proxy(targets, authority, upstream_context(child.user_ca_files(ctx.environ)))
    folder = tempfile.mkdtemp(prefix="authsome-run-")  # 0700
    try:
        path = os.path.join(folder, "ca-bundle.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(child.bundle(authority.pem(), ctx.environ))
        base = scrub(ctx.environ, ctx.registry)
        environ = child.child_environ(base, proxy.url, path, placeholders, hosts)
        if sandbox is None:
            proxy.start()
            status = _wait(command, environ)
        else:
            status = _in_sandbox(ctx, proxy, command, environ, (folder, path), sandbox)
    finally:
        proxy.stop()
        shutil.rmtree(folder, ignore_errors=True)
    if status < 0:
        _die_by(-status)
        return 128 - status
    return status


def _in_sandbox(ctx, proxy, command, environ, run_files, sandbox) -> int:
    """`run --proxy --sandbox`'s child (services/sandboxrun.py); `run_files`: (the run's
    folder, its CA bundle)."""
    from authsome.proxy.local import dial_away
    from authsome.services.sandboxrun import run_sandboxed

    proxy.dial = dial_away  # what it tunnels for the sandbox stays off this machine
    signals = (FORWARDED, FROM_TERMINAL)
    return run_sandboxed(ctx, proxy, command, environ, *run_files, sandbox, signals)


def _wait(command: list[str], environ: dict[str, str]) -> int:
    try:
        child = subprocess.Popen(command, env=environ)  # noqa: S603 - argv, no shell
    except (FileNotFoundError, PermissionError) as e:
        from authsome.services.childenv import not_runnable

        raise not_runnable(command, e) from None
    saved = {}
    for sig in FORWARDED:
        saved[sig] = signal.signal(sig, lambda s, _f: child.send_signal(s))
    for sig in FROM_TERMINAL:
        saved[sig] = signal.signal(sig, lambda _s, _f: None)
    try:
        return child.wait()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _die_by(sig: int) -> None:
    """End this process by `sig`, as the child ended, so the caller sees the same status."""
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
