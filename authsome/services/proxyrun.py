"""`authsome run --proxy`: the child runs behind a local proxy that adds its credentials.

The child holds placeholders; the proxy asks fresh() for the real credential, again whenever
the one it holds nears expiry, so a child that runs for hours keeps working. The proxy lives
as long as the child, and the child's exit status and signals pass through.
"""

from __future__ import annotations

import os
import threading

from authsome.errors import AuthsomeError, UsageError
from authsome.storage.connections import display_ref, parse_ref

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context
    from authsome.storage.connections import Connection


class Credential:
    """One named connection's header; fresh() is asked on first use and near expiry."""

    def __init__(
        self, ctx: Context, ref: str, provider, lock: threading.Lock, argv0: str | None = None
    ):
        from authsome.proxy.router import hosts_of, placeholder

        self.ctx, self.ref, self.provider, self._lock = ctx, ref, provider, lock
        self.argv0 = argv0  # the child's, for the audit log
        self.hosts = hosts_of(provider)
        self.placeholder = placeholder(provider.name)
        self._conn: Connection | None = None
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
            assert conn is not None  # a request is signed only once header() found the login
            line = {**request, **outcome, "argv0": self.argv0}
            audit.record(self.ctx, "proxy", conn.provider, conn.connection, **line)
            if isinstance(failed, AuthsomeError) and (request["host"], why) not in self._told:
                self._told.add((request["host"], why))
                fix = f" {failed.fix[0].upper()}{failed.fix[1:]}." if failed.fix else ""
                self.ctx.io.say(
                    f"authsome: {self.argv0}'s {request['method']} to {request['host']} got 502"
                    f" from the proxy: {why}.{fix}"
                )

    def denied(self, request: dict[str, str], why: str) -> None:
        """Log a request the rules kept from upstream (method, host:port, path; `why`); the
        first for each method and host is also said on stderr."""
        from authsome.services import audit

        with self._lock:
            conn, told = self._conn, ("denied " + request["method"], request["host"])
            assert conn is not None  # _targets() asked header() before the child started
            line = {**request, "argv0": self.argv0, "reason": why}  # free text last
            audit.record(self.ctx, "denied", conn.provider, conn.connection, **line)
            if told not in self._told:
                self._told.add(told)
                asked = (
                    f"{request['method']} {request['host']}{audit.clean('path', request['path'])}"
                )
                self.ctx.io.say(f"authsome: the proxy denied {self.argv0}'s {asked} ({why}).")

    def variables(self) -> list[str]:
        found = list(self.provider.export_env.values())
        if self.provider.api_key and self.provider.api_key.env_var:
            found.append(self.provider.api_key.env_var)
        return found


def _targets(ctx: Context, names, argv0: str) -> dict[str, Credential]:
    from authsome.services.env import default_refs

    lock, targets = threading.Lock(), dict[str, Credential]()
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


def run_proxied(
    ctx: Context,
    names: list[str],
    command: list[str],
    env_files=(),
    masking: bool = True,
    rules=None,
    sandbox=None,
) -> int:
    """Run `command` behind the proxy; its exit status (a signal is raised again here).

    With env files, the proxy serves `names` or else the connections the files reference; a
    reference (in a file or the environment) to a connection it serves is its placeholder.
    `rules`: services/requestrules.py's RuleOptions; `sandbox`: services.sandboxrun.Sandbox."""
    from authsome.proxy import environ as child
    from authsome.proxy.authority import Authority
    from authsome.proxy.server import Proxy, upstream_context
    from authsome.services import childrun, requestrules
    from authsome.services.childenv import scrub
    from authsome.util import runfolder

    rules, found = _asked(ctx, rules, sandbox)
    ctx.refresh_in_helper = False  # the proxy's threads refresh; failures kept here (refreshfail)
    sources = _sources(ctx, env_files)
    if env_files and not names:  # the files say what the command needs
        names = sources.refs
    targets = _targets(ctx, names, command[0])
    in_force = requestrules.for_run(rules, found, targets)
    hosts = [h for t in targets.values() for h in t.hosts]
    placeholders = {v: t.placeholder for t in targets.values() for v in t.variables()}
    extra, secrets = _resolved(ctx, sources, targets, placeholders, command[0])
    authority = Authority(hosts)
    proxy = Proxy(targets, authority, upstream_context(child.user_ca_files(ctx.environ)), in_force)
    folder, hold = runfolder.make()  # 0700
    try:
        path = os.path.join(folder, "ca-bundle.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(child.bundle(authority.pem(), ctx.environ))
        base = {**scrub(ctx.environ, ctx.registry), **extra}
        environ = child.child_environ(base, proxy.url, path, placeholders, hosts)
        if sandbox is None:
            proxy.start()
            shown = [*secrets, proxy.secret] if masking and secrets else ()
            status = _wait(command, environ, shown)
        else:
            status = _in_sandbox(ctx, proxy, command, environ, (folder, path), sandbox)
    finally:
        proxy.stop()
        runfolder.remove(folder, hold)
    return childrun.exit_status(status)


def _asked(ctx: Context, rules, sandbox):
    """(the rules, as read), once the rules and the sandbox are checked: said before any login
    is looked at, as the command will not run."""
    from authsome.services import requestrules

    if sandbox is not None:
        from authsome.services.sandboxrun import require_sandbox

        require_sandbox(ctx.environ)
    rules = rules or requestrules.RuleOptions()
    return rules, requestrules.parsed(rules)


def _in_sandbox(ctx, proxy, command, environ, run_files: tuple[str, str], sandbox) -> int:
    """`run --proxy --sandbox`'s child (services/sandboxrun.py); `run_files`: (the run's
    folder, its CA bundle)."""
    from authsome.proxy.local import dial_away
    from authsome.services.sandboxrun import run_sandboxed
    from authsome.util.child import FORWARDED, FROM_TERMINAL

    proxy.dial = dial_away  # what it tunnels for the sandbox stays off this machine
    signals = (FORWARDED, FROM_TERMINAL)
    return run_sandboxed(ctx, proxy, command, environ, *run_files, sandbox, signals)


def _sources(ctx, env_files):
    """The env files and the environment's references, read and checked; None if neither."""
    from authsome.services.childenv import has_references

    if not env_files and not has_references(ctx.environ):
        return None
    from authsome.services.envfiles import Sources

    return Sources(ctx.environ, env_files)


def _resolved(ctx, sources, targets, placeholders, argv0: str) -> tuple[dict, list[str]]:
    """The references' and files' variables, the proxy's placeholders for what it serves; and
    the values references gave (placeholders aside), which the child's output conceals."""
    if sources is None:
        return {}, []
    from authsome.services import envfiles
    from authsome.services.references import Resolver

    served = {name: (parse_ref(t.ref)[1], t.placeholder) for name, t in targets.items()}
    sources.inherited = [i for i in sources.inherited if i[1] not in placeholders]
    resolver = Resolver(ctx, served)
    inherited, from_files = sources.resolve(resolver)
    envfiles.check_agree(placeholders, from_files, [t.ref for t in targets.values()])
    envfiles.audit(ctx, "run", resolver, argv0=argv0)
    return {**inherited, **from_files}, resolver.secrets


def _wait(command: list[str], environ: dict[str, str], secrets) -> int:
    """The child's status (-N: signal N); its output masked when `secrets` holds any.

    Masked only when a reference gave it a value besides placeholders: the per-run proxy
    secret in its *_PROXY variables opens the proxy only to this uid (which can read the
    child's environment anyway) and only while the run lasts."""
    from authsome.services import childrun
    from authsome.util.masking import Masker

    if secrets:
        return childrun.run_masked(command, environ, (Masker(secrets), Masker(secrets)))
    from authsome.util.child import FORWARDED, FROM_TERMINAL, forwarding, wait

    pid = childrun.spawn(command, environ, [])
    with forwarding(pid, FORWARDED, FROM_TERMINAL):
        return wait(pid)
