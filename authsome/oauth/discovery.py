"""Authorization server metadata (RFC 8414, OpenID Connect Discovery): endpoints from an issuer,
or from a protected resource's metadata (RFC 9728) naming its issuer.

Metadata is cached per provider in ~/.authsome/cache/discovery/NAME.json for a day;
`authsome inspect NAME --refresh` fetches it again.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from urllib.parse import urlsplit

from authsome.errors import AuthFailed, ConfigError
from authsome.oauth import DCR_PKCE, DEVICE_CODE, DEVICE_GRANT
from authsome.providers.urls import check_url
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
    # For an issuer with a path, OpenID's name is tried inserted too (RFC 8414 section 5), as
    # the MCP authorization spec asks, before it is appended (OpenID Connect Discovery 1.0).
    parts = urlsplit(issuer.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}"
    urls = [f"{base}/.well-known/oauth-authorization-server{parts.path}"]
    if parts.path:
        urls.append(f"{base}/.well-known/openid-configuration{parts.path}")
    return [*urls, f"{issuer.rstrip('/')}/.well-known/openid-configuration"]


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


def issuer_for(http, resource: str) -> str:
    """The authorization server a protected resource (an MCP server, say) names."""
    from authsome.oauth.resource import discover

    return discover(http, resource)[0]


def _cache_path(ctx: Context, name: str):
    from pathlib import Path

    return Path(ctx.home.path, "cache", "discovery", f"{name}.json")


def cached(ctx: Context, provider, refresh: bool = False) -> tuple[str, dict, list]:
    """(issuer, metadata, the scopes its resource asks for) for the provider, from the cache
    when fresh."""
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
                return doc["issuer"], doc["metadata"], _listed(doc.get("scopes"))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    issuer = oauth.issuer
    scopes: list[str] = []
    if not issuer:
        from authsome.oauth.resource import discover

        issuer, scopes = discover(ctx.http, oauth.resource)
    metadata = fetch(ctx.http, issuer)
    keep(ctx, provider.name, [oauth.issuer, oauth.resource], issuer, metadata, scopes)
    return issuer, metadata, scopes


def keep(ctx: Context, name: str, asked: list, issuer: str, metadata: dict, scopes=()) -> None:
    """Cache `metadata`, fetched for the provider `name` (asked: its [issuer, resource]), with
    the scopes its resource asks for."""
    path = _cache_path(ctx, name)
    fsutil.ensure_private_dir(path.parent)
    body = {"asked": asked, "issuer": issuer, "fetched_at": int(ctx.clock()), "metadata": metadata}
    body["scopes"] = list(scopes)
    fsutil.atomic_write(path, json.dumps(body, indent=1).encode())


def resolve_cached(ctx: Context, provider):
    """`provider` filled in from cached metadata of any age; None when nothing is cached."""
    # For listings, which must not go to the network once per provider.
    oauth = provider.oauth
    try:
        doc = json.loads(_cache_path(ctx, provider.name).read_text(encoding="utf-8"))
        if doc["asked"] != [oauth.issuer, oauth.resource]:
            return None
        return _fill(provider, doc["issuer"], doc["metadata"], _listed(doc.get("scopes")))
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
    return _fill(provider, *cached(ctx, provider, refresh))


def _default_scopes(oauth, scopes: tuple[str, ...]) -> dict:
    """The scopes a login asks for when the definition names none, with what they need."""
    found: dict = {"scopes": scopes}
    if "offline_access" in scopes and "prompt" not in oauth.authorization_params:
        # OpenID Connect Core 11: offline_access is ignored unless prompt has consent.
        params = {**oauth.authorization_params, "prompt": "consent"}
        found["authorization_params"] = MappingProxyType(params)
    return found


def _listed(value) -> list[str]:
    return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []


def _offers_device(found: dict, metadata: dict) -> bool:
    """A device endpoint, and the device grant listed (or no grants listed at all)."""
    grants = metadata.get("grant_types_supported") or []
    return bool(found.get("device_authorization_url")) and (DEVICE_GRANT in grants or not grants)


def _fill(provider, issuer: str, metadata: dict, scopes=()):
    """`provider` with what it lacks taken from `issuer`'s metadata."""
    oauth = provider.oauth
    found: dict[str, object] = {} if oauth.issuer else {"issuer": issuer}
    for meta_field, spec_field in ENDPOINTS.items():
        if getattr(oauth, spec_field) is None and isinstance(metadata.get(meta_field), str):
            found[spec_field] = metadata[meta_field]
    # The scopes the resource asks for (oauth/resource.py), else OpenID's defaults offered.
    wanted = list(scopes) or default_scopes(metadata)
    if not oauth.scopes and wanted:
        found.update(_default_scopes(oauth, tuple(wanted)))
    if metadata.get("authorization_response_iss_parameter_supported") is True:
        found["iss_parameter_supported"] = True  # RFC 9207
    if metadata.get("client_id_metadata_document_supported") is True:
        found["client_id_metadata_document_supported"] = True
    methods = metadata.get("code_challenge_methods_supported")
    found["code_challenge_methods"] = tuple(_listed(methods))
    if not oauth.supports_device_code and _offers_device(found, metadata):
        found["supports_device_code"] = True
    return provider.replace(oauth=oauth.replace(**found))
