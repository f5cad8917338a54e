"""Authorization server metadata (RFC 8414, OpenID Connect Discovery): endpoints from an issuer,
or from a protected resource's metadata (RFC 9728) naming its issuer.

Metadata is cached per provider in ~/.authsome/cache/discovery/NAME.json for a day;
`authsome inspect NAME --refresh` fetches it again.
"""

from __future__ import annotations

import json
import re
from types import MappingProxyType
from urllib.parse import urlsplit

from authsome.errors import AuthFailed, ConfigError
from authsome.oauth import DCR_PKCE, DEVICE_CODE, DEVICE_GRANT
from authsome.providers.urls import URL_RULE, url_allowed
from authsome.util import fsutil

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

CACHE_SECONDS = 24 * 3600
# metadata field -> OAuthSpec field
ENDPOINTS = {
    "authorization_endpoint": "authorization_url",
    "token_endpoint": "token_url",
    "device_authorization_endpoint": "device_authorization_url",
    "revocation_endpoint": "revocation_url",
    "registration_endpoint": "registration_url",
}


# Asked for when a provider names no scopes and the server offers them: `openid`, since many
# servers grant nothing without a scope, and `offline_access`, without which OpenID Connect
# servers issue no refresh token (OpenID Connect Core, section 11).
DEFAULT_SCOPES = ("openid", "offline_access")


def default_scopes(metadata: dict) -> tuple[str, ...]:
    """The scopes to ask for when the provider names none: those of DEFAULT_SCOPES offered."""
    offered = metadata.get("scopes_supported")
    if not isinstance(offered, list):
        return ()
    return tuple(s for s in DEFAULT_SCOPES if s in offered)


def metadata_urls(issuer: str) -> list[str]:
    """Where to look, in order: RFC 8414's well-known URI, then OpenID Connect's."""
    parts = urlsplit(issuer.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    return [
        f"{base}/.well-known/oauth-authorization-server{parts.path}",
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]


def check_url(value, field: str, where: str | None = None) -> None:
    """Hold a discovered URL to the provider-file rule: credentials go over https only."""
    if not url_allowed(value):
        source = f" (from {where})" if where else ""
        raise ConfigError(
            f"{field} {value!r}{source} {URL_RULE.replace('must be', 'is not')}",
            "authsome will not send anything there; ask the server's operator to fix it",
        )


def check_metadata(metadata: dict, where: str) -> None:
    """Every endpoint authsome may use from `metadata`, and its issuer, must pass check_url."""
    for field in ("issuer", *ENDPOINTS):
        if metadata.get(field) is not None:
            check_url(metadata[field], field, where)


def fetch(http, issuer: str) -> dict:
    """The issuer's metadata, checked to be about that issuer."""
    check_url(issuer, "issuer")
    tried = []
    for url in metadata_urls(issuer):
        status, body = http.get_json(url)
        if status == 200 and isinstance(body.get("issuer"), str):
            if body["issuer"].rstrip("/") != issuer.rstrip("/"):
                raise AuthFailed(
                    f"the metadata at {url} is for issuer {body['issuer']!r}, not {issuer!r}",
                    "check oauth.issuer; authsome will not use endpoints another issuer published",
                )
            check_metadata(body, f"the metadata at {url}")
            return body
        tried.append(f"{url} (HTTP {status})")
    raise ConfigError(
        f"no authorization server metadata for {issuer}: tried {', '.join(tried)}",
        "check oauth.issuer, or give the endpoints in the provider file",
    )


def protected_resource_urls(resource: str) -> list[tuple[str, str]]:
    """RFC 9728 well-known URLs for `resource`, each with the identifier it was built from."""
    # The well-known name goes between the host and the resource's path, then (as MCP clients
    # do) at the root.
    parts = urlsplit(resource.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    urls = [(f"{base}/.well-known/oauth-protected-resource{parts.path}", resource)]
    if parts.path:
        urls.append((f"{base}/.well-known/oauth-protected-resource", base))
    return urls


_RESOURCE_METADATA = re.compile(r'resource_metadata\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def issuer_for(http, resource: str) -> str:
    """The authorization server a protected resource (an MCP server, say) names."""
    tried = []
    for url, identifier in protected_resource_urls(resource):
        issuer, status = _named_issuer(http, url, resource, {identifier, resource})
        if issuer:
            return issuer
        tried.append(f"{url} (HTTP {status})")
    # RFC 9728 section 5.1: a resource may name its metadata in its 401 challenge instead.
    found = _RESOURCE_METADATA.search(http.challenge(resource) or "")
    if found:
        url = found.group(1) or found.group(2)
        downgrade = urlsplit(resource).scheme == "https" and urlsplit(url).scheme != "https"
        if downgrade or not url_allowed(url):
            tried.append(f"{url} (named in the 401 of {resource}; not https, not used)")
        else:
            issuer, status = _named_issuer(http, url, resource, {resource})
            if issuer:
                return issuer
            tried.append(f"{url} (HTTP {status}, named in the 401 of {resource})")
    raise ConfigError(
        f"no protected resource metadata for {resource}: tried {', '.join(tried)}",
        "give oauth.issuer instead",
    )


def _named_issuer(http, url: str, resource: str, allowed: set[str]) -> tuple[str | None, int]:
    """(the first authorization server the metadata at `url` names, or None; HTTP status)."""
    status, body = http.get_json(url)
    servers = body.get("authorization_servers") if status == 200 else None
    if not (isinstance(servers, list) and servers and isinstance(servers[0], str)):
        return None, status
    described = str(body.get("resource", resource)).rstrip("/")
    if described not in {a.rstrip("/") for a in allowed}:
        raise AuthFailed(
            f"the metadata at {url} describes {body.get('resource')!r}, not {resource!r}",
            "check oauth.resource",
        )
    check_url(servers[0], "authorization_servers", f"the metadata at {url}")
    return servers[0], status


def _cache_path(ctx: Context, name: str):
    from pathlib import Path

    return Path(ctx.home.path, "cache", "discovery", f"{name}.json")


def cached(ctx: Context, provider, refresh: bool = False) -> tuple[str, dict]:
    """(issuer, metadata) for the provider, from the cache when fresh."""
    path = _cache_path(ctx, provider.name)
    oauth = provider.oauth
    if not refresh:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            same = doc["asked"] == [oauth.issuer, oauth.resource]
            fresh = ctx.clock() - doc["fetched_at"] < CACHE_SECONDS
            if same and fresh and isinstance(doc["metadata"], dict):
                # Checked again: the cache may predate the check.
                check_url(doc["issuer"], "issuer", f"the cached metadata in {path}")
                check_metadata(doc["metadata"], f"the cached metadata in {path}")
                return doc["issuer"], doc["metadata"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    issuer = oauth.issuer or issuer_for(ctx.http, oauth.resource)
    metadata = fetch(ctx.http, issuer)
    keep(ctx, provider.name, [oauth.issuer, oauth.resource], issuer, metadata)
    return issuer, metadata


def keep(ctx: Context, name: str, asked: list, issuer: str, metadata: dict) -> None:
    """Cache `metadata`, fetched for the provider `name` (asked: its [issuer, resource])."""
    path = _cache_path(ctx, name)
    fsutil.ensure_private_dir(path.parent)
    body = {"asked": asked, "issuer": issuer, "fetched_at": int(ctx.clock()), "metadata": metadata}
    fsutil.atomic_write(path, json.dumps(body, indent=1).encode())


def resolve_cached(ctx: Context, provider):
    """`provider` filled in from cached metadata of any age; None when nothing is cached."""
    # For listings, which must not go to the network once per provider.
    oauth = provider.oauth
    try:
        doc = json.loads(_cache_path(ctx, provider.name).read_text(encoding="utf-8"))
        if doc["asked"] != [oauth.issuer, oauth.resource]:
            return None
        return _fill(provider, doc["issuer"], doc["metadata"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve(ctx: Context, provider, refresh: bool = False):
    """`provider` with missing endpoints filled in from its issuer's metadata."""
    # Endpoints written in the provider file win over discovered ones.
    oauth = provider.oauth
    if oauth is None or not (oauth.issuer or oauth.resource):
        return provider
    # Only a provider that lacks what its flow needs goes to the network; one that lists its
    # endpoints (and names an issuer just for the `iss` check) is used as written.
    needed = ["authorization_url", "token_url"]
    needed += {DCR_PKCE: ["registration_url"], DEVICE_CODE: ["device_authorization_url"]}.get(
        provider.flow, []
    )
    if not refresh and all(getattr(oauth, f) is not None for f in needed):
        return provider
    issuer, metadata = cached(ctx, provider, refresh)
    return _fill(provider, issuer, metadata)


def _default_scopes(oauth, scopes: tuple[str, ...]) -> dict:
    """The scopes a login asks for when the definition names none, with what they need."""
    found: dict = {"scopes": scopes}
    if "offline_access" in scopes and "prompt" not in oauth.authorization_params:
        # OpenID Connect Core 11: offline_access is ignored unless prompt has consent.
        params = {**oauth.authorization_params, "prompt": "consent"}
        found["authorization_params"] = MappingProxyType(params)
    return found


def _offers_device(found: dict, metadata: dict) -> bool:
    """A device endpoint, and the device grant listed (or no grants listed at all)."""
    grants = metadata.get("grant_types_supported") or []
    return bool(found.get("device_authorization_url")) and (DEVICE_GRANT in grants or not grants)


def _fill(provider, issuer: str, metadata: dict):
    """`provider` with what it lacks taken from `issuer`'s metadata."""
    oauth = provider.oauth
    found: dict[str, object] = {} if oauth.issuer else {"issuer": issuer}
    for meta_field, spec_field in ENDPOINTS.items():
        if getattr(oauth, spec_field) is None and isinstance(metadata.get(meta_field), str):
            found[spec_field] = metadata[meta_field]
    if not oauth.scopes and default_scopes(metadata):
        found.update(_default_scopes(oauth, default_scopes(metadata)))
    if metadata.get("authorization_response_iss_parameter_supported") is True:
        found["iss_parameter_supported"] = True  # RFC 9207
    if not oauth.supports_device_code and _offers_device(found, metadata):
        found["supports_device_code"] = True
    return provider.replace(oauth=oauth.replace(**found))
