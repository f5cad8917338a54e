"""`authsome kube-credential` and `authsome setup-kube`: a client-go exec credential plugin.

kubectl runs the plugin with KUBERNETES_EXEC_INFO (an ExecCredential naming the apiVersion it
wants) and reads an ExecCredential back from stdout. It keeps the token until
`expirationTimestamp`, which is set to when authsome would refresh it, so the next call gets a
fresh one. docs/helpers.md shows the kubeconfig.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time

from authsome.errors import AuthFailed, ConfigError, UsageError
from authsome.services.program import self_argv
from authsome.storage.connections import display_ref, effective_margin, parse_ref

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
API_VERSIONS = (V1, V1BETA1)


def exec_info(environ: dict[str, str]) -> dict:
    """The ExecCredential kubectl passes in KUBERNETES_EXEC_INFO; {} when there is none."""
    raw = environ.get("KUBERNETES_EXEC_INFO", "").strip()
    if not raw:
        return {}
    try:
        info = json.loads(raw)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise UsageError("KUBERNETES_EXEC_INFO is not an ExecCredential")
    return info


def api_version(info: dict) -> str:
    """The apiVersion kubectl asked for; v1beta1, which every kubectl since 1.11 reads, if none."""
    if not info:
        return V1BETA1
    asked = info.get("apiVersion")
    if asked not in API_VERSIONS:
        raise UsageError(
            f"kubectl asked for {asked!r}; authsome answers {V1} and {V1BETA1}",
            f"set apiVersion: {V1} in the kubeconfig's exec section",
        )
    return asked


def exec_credential(ctx: Context, ref: str) -> str:
    """The ExecCredential JSON kubectl reads: the fresh token and when to ask again."""
    from authsome.services.audit import record
    from authsome.services.refresh import credential, fresh

    info = exec_info(ctx.environ)
    version = api_version(info)
    name, conn_name = parse_ref(ref)
    check_server(info)
    conn = fresh(ctx, name, conn_name)
    spec = ctx.registry.get(name).kubernetes
    kind = spec.token if spec is not None else "access_token"
    token = credential(conn) if kind == "access_token" else conn.secrets.get("id_token")
    if not token:
        hint = display_ref(name, conn_name)
        raise AuthFailed(
            f"the login for {hint} has no ID token, which this cluster takes",
            f"log in with the openid scope: authsome login {hint} --force",
        )
    record(ctx, "kube-credential", name, conn_name)
    status = {"token": token}
    until = _ask_again_at(ctx, conn, _jwt_exp(token) if kind == "id_token" else None)
    if until is not None:
        status["expirationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
    doc = {"apiVersion": version, "kind": "ExecCredential", "status": status}
    return json.dumps(doc, indent=2)


def check_server(info: dict) -> None:
    """Refuse a cluster reached over plain http, as kubectl names it with provideClusterInfo.

    Loopback too: unlike a one-time OAuth code on a loopback redirect, the token is a bearer
    credential for the whole cluster, and without TLS nothing shows that the process listening
    on 127.0.0.1:PORT is the API server (any local user may bind a free port). kubectl without
    provideClusterInfo names no server, and then there is nothing to check."""
    spec = info.get("spec")
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    server = cluster.get("server") if isinstance(cluster, dict) else None
    if isinstance(server, str) and not server.lower().startswith("https://"):
        raise ConfigError(
            "the cluster's server is not an https:// URL, and a token sent there could be read"
            " on the way",
            "point the kubeconfig's cluster at the API server's https:// address",
        )


def _ask_again_at(ctx: Context, conn, jwt_exp: float | None) -> float | None:
    """When kubectl should call again: when authsome would refresh, or the real expiry if that
    moment has passed (a refresh failed and the old token is still good)."""
    expiry = conn.expires_at
    if jwt_exp is not None:
        expiry = jwt_exp if expiry is None else min(expiry, jwt_exp)
    if expiry is None:
        return None
    due = expiry - effective_margin(expiry, conn.updated_at, ctx.refresh_margin)
    return int(due) if due > ctx.clock() else int(expiry)


def _jwt_exp(token: str) -> float | None:
    """The `exp` claim of a JWT, unverified (only to time the next call), or None."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp")
    except (IndexError, ValueError, AttributeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def exec_args(ref: str) -> list[str]:
    """The command and arguments a kubeconfig's exec section runs."""
    return [*self_argv(), "kube-credential", ref]


def setup_kube(ctx: Context, ref: str, cluster: str, user: str | None) -> tuple[str, str]:
    """Write a kubeconfig user that runs this plugin, with `kubectl config set-credentials`,
    and point `cluster`'s context at it. Returns the user's name and a line about the current
    context."""
    kubectl = shutil.which("kubectl", path=ctx.environ.get("PATH", os.defpath))
    if kubectl is None:
        raise ConfigError("kubectl is not installed", "install it, or write the kubeconfig by hand")
    name, conn_name = parse_ref(ref)
    user = user or f"authsome-{name}" + ("" if conn_name == "default" else f"-{conn_name}")
    command, *args = exec_args(display_ref(name, conn_name))
    # v1beta1: the apiVersion that kubectl 1.20 (Debian 12) and every later one read.
    cmd = [kubectl, "config", "set-credentials", user, f"--exec-api-version={V1BETA1}"]
    cmd += [f"--exec-command={command}", *(f"--exec-arg={a}" for a in args)]
    _kubectl(ctx, cmd)
    _kubectl(
        ctx, [kubectl, "config", "set-context", cluster, f"--cluster={cluster}", f"--user={user}"]
    )
    return user, _current_context(ctx, kubectl, cluster)


def _current_context(ctx: Context, kubectl: str, context: str) -> str:
    """Make `context` current when none is (a fresh kubeconfig's `current-context: ""` sends
    plain `kubectl` to localhost:8080); never switch away from one the user chose. Returns
    what to tell them."""
    current = _kubectl(ctx, [kubectl, "config", "current-context"], check=False)
    if not current:
        _kubectl(ctx, [kubectl, "config", "use-context", context])
        return "It is now the current context (there was none)."
    if current == context:
        return "It is the current context."
    return f"The current context is still {current}; switch: kubectl config use-context {context}"


def _kubectl(ctx: Context, cmd: list[str], check: bool = True) -> str:
    from authsome.services.childenv import scrub

    environ = scrub(ctx.environ, ctx.registry)  # kubectl needs no key to authsome's store
    out = subprocess.run(cmd, env=environ, capture_output=True, text=True, timeout=30)
    if out.returncode != 0 and check:
        why = (out.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"kubectl config failed ({why})", "check your kubeconfig")
    return out.stdout.strip() if out.returncode == 0 else ""
