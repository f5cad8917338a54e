"""The provider catalogue: listing, showing and registering definitions."""

from __future__ import annotations

import json
from pathlib import Path

from authsome.errors import AlreadyLoggedIn, ConfigError
from authsome.providers.model import OAuthSpec, env_prefix
from authsome.providers.registry import deep_merge, read_json
from authsome.providers.schema import parse_provider
from authsome.services.listing import columns
from authsome.storage.connection import state_of
from authsome.util import fsutil

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context


def provider_rows(ctx: Context) -> list[dict]:
    registry = ctx.registry
    entries = {e["provider"] + ":" + e["connection"]: e for e in ctx.connections.list()}
    now, margin = ctx.clock(), ctx.refresh_margin
    out = []
    for p in registry.all():
        conns = {k: e for k, e in entries.items() if e.get("provider") == p.name}
        states = sorted({state_of(e, now, margin) for e in conns.values()})
        out.append(
            {
                "name": p.name,
                "display_name": p.display_name,
                "auth_type": p.auth_type,
                "flow": p.flow,
                "supports_device_code": _device(ctx, p),  # None: not known until discovered
                "source": "bundled" if registry.is_bundled(p.name) else "custom",
                "customized": len(p.sources) > 1,
                "connections": len(conns),
                "state": ", ".join(states) if states else "not connected",
            }
        )
    return out


def _device(ctx: Context, p) -> bool | None:
    """Whether `p` offers the device flow, as inspect shows it; None when not known yet."""
    device: bool | None = bool(p.oauth and p.oauth.supports_device_code)
    if p.oauth and not device and (p.oauth.issuer or p.oauth.resource):
        # From the issuer's metadata, if it was ever fetched.
        from authsome.oauth import discovery

        found = discovery.resolve_cached(ctx, p)
        device = found.oauth.supports_device_code if found else None
    return device


def render_rows(table: list[dict]) -> str:
    headers = ("NAME", "TYPE", "FLOW", "DEVICE", "SOURCE", "STATE")
    body: list[tuple[str, ...]] = []
    for r in table:
        source = r["source"] + ("+override" if r["customized"] else "")
        device = {True: "yes", False: "no", None: "?"}[r["supports_device_code"]]
        body.append((r["name"], r["auth_type"], r["flow"], device, source, r["state"]))
    return columns(headers, body)


def render_definition(provider) -> str:
    d = provider.to_dict()
    lines = [
        f"{d['display_name']} ({d['name']})",
        f"  auth_type: {d['auth_type']}",
        f"  flow: {d['flow']}",
    ]
    if d["docs_url"]:
        lines.append(f"  docs_url: {d['docs_url']}")
    for section in ("oauth", "api_key", "git", "docker", "kubernetes"):
        if section in d:
            lines.append(f"  {section}:")
            lines += [f"    {k}: {json.dumps(v)}" for k, v in d[section].items()]
    lines.append(f"  export.env: {json.dumps(d['export']['env'])}")
    lines.append(f"  hosts: {', '.join(d['hosts']) or '(none)'}")
    lines.append(f"  sources: {', '.join(d['sources'])}")
    return "\n".join(lines)


def resolved(ctx: Context, name: str, refresh: bool = False):
    """The provider with discovered endpoints; as written, with a warning, when offline."""
    from authsome.errors import AuthsomeError

    try:
        return ctx.provider(name, refresh)
    except AuthsomeError as e:
        if refresh or not ctx.registry.get(name).oauth:
            raise
        ctx.io.say(f"authsome: warning: could not discover endpoints ({e}). Showing the file.")
        return ctx.registry.get(name)


def register_issuer(ctx: Context, name: str, issuer: str, force: bool) -> Path:
    """Write a provider whose endpoints come from `issuer`'s metadata, after fetching it once."""
    from authsome.oauth import discovery
    from authsome.storage.connection import check_name

    check_name("provider", name)
    metadata = discovery.fetch(ctx.http, issuer)
    flow = "dcr_pkce" if metadata.get("registration_endpoint") else "pkce"
    data = {
        "name": name,
        "display_name": name,
        "auth_type": "oauth2",
        "flow": flow,
        "oauth": {"issuer": issuer},
        "export": {"env": {"access_token": f"{env_prefix(name)}_TOKEN"}},
    }
    target = install(ctx, data, f"the metadata of {issuer}", force)
    discovery.keep(ctx, name, [issuer, None], issuer, metadata)  # fetched once, not twice
    return target


def register(ctx: Context, file: str, force: bool) -> Path:
    """Check `file` (merged over a bundled definition of the same name) and install it."""
    return install(ctx, read_json(Path(file)), file, force)


# The fields that say where a credential goes. A file that claims one of a bundled provider's
# (another name's), or an override that changes its own provider's, is installed only with
# --force: after that, the credential goes where the file says.
OWNED_FIELDS = {"hosts": "host", "git.hosts": "git host", "docker.registries": "docker registry"}
# Every field of the OAuth section that names a server: its URLs, the issuer, the resource.
ENDPOINT_FIELDS = tuple(
    f"oauth.{key}"
    for key in OAuthSpec.__slots__
    if key.endswith("_url") or key in ("issuer", "resource")
)


def _field(data, path: str):
    """The value at a dotted `path` of a definition, or None."""
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def bundled_owner(bundled: dict, name: str, pattern: str, field: str) -> str | None:
    """The provider in `bundled` ({name: definition}) other than `name` whose `field` overlaps
    `pattern`, if any."""
    from authsome.providers.hosts import overlap

    for other, data in bundled.items():
        if other == name:
            continue
        taken = _field(data, field) or []
        if any(overlap(pattern, host) for host in taken):
            return other
    return None


def _check_hosts_free(registry, merged: dict, original: dict | None, source: str) -> None:
    """A provider file may not take a host where a bundled provider's credential goes; what an
    override keeps of its own bundled definition (google's *.googleapis.com) it already has."""
    files = sorted(Path(registry.bundled).glob("*.json"))
    bundled = {path.stem: read_json(path) for path in files}
    for field, kind in OWNED_FIELDS.items():
        kept = _field(original, field) or []
        for pattern in _field(merged, field) or []:
            if pattern in kept:
                continue
            owner = bundled_owner(bundled, merged["name"], pattern, field)
            if owner is not None:
                raise ConfigError(
                    f"{source}: {kind} {pattern!r} belongs to the bundled provider {owner}",
                    "if this provider's credential should go there instead, register it with"
                    " --force",
                )


def _check_same_places(bundled: dict, merged: dict, source: str) -> None:
    """An override may not move a bundled provider's endpoints or hosts without --force."""
    for field in (*ENDPOINT_FIELDS, *OWNED_FIELDS):
        before, after = _field(bundled, field), _field(merged, field)
        if isinstance(before, list) and isinstance(after, list):
            before, after = sorted(before), sorted(after)
        if before != after:
            raise ConfigError(
                f"{source}: changes {field} of the bundled provider {merged['name']}",
                "if its credentials should go there, register it with --force",
            )


def install(ctx: Context, data, source: str, force: bool) -> Path:
    """Check a definition (merged over a bundled one of the same name) and install it."""
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise ConfigError(f"{source}: field 'name' is required", "add the provider's name")
    registry = ctx.registry
    bundled = Path(registry.bundled, f"{name}.json")
    original = read_json(bundled) if bundled.is_file() else None
    merged = deep_merge(original, data) if original is not None else data
    parse_provider(merged, source, name)
    if not force:
        _check_hosts_free(registry, merged, original, source)
        if original is not None:
            _check_same_places(original, merged, source)
    target = Path(registry.user, f"{name}.json")
    if target.exists() and not force:
        raise AlreadyLoggedIn(
            f"a custom provider {name} is already installed at {target}",
            "use --force to replace it",
        )
    fsutil.ensure_private_dir(registry.user)
    fsutil.atomic_write(target, (json.dumps(data, indent=2) + "\n").encode())
    kind = "override of the bundled" if bundled.is_file() else "new"
    ctx.io.say(f"Registered {kind} provider {name} at {target}.")
    return target
