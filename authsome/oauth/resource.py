"""Protected resource metadata (RFC 9728): the authorization server an MCP server (any
OAuth-protected resource) names, and the scopes to ask it for.

In the order the MCP authorization spec (2025-11-25) gives: the metadata URL in the resource's
401 challenge (`resource_metadata=`), else the well-known URL with the resource's path, then at
the root. Scopes: the challenge's `scope`, else the metadata's `scopes_supported`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from authsome.errors import AuthFailed, ConfigError
from authsome.oauth.challenge import bearer_params, scopes
from authsome.providers.urls import check_url, url_allowed
from authsome.util.termtext import printable


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


def discover(http, resource: str) -> tuple[str, list[str]]:
    """(the authorization server `resource` names, the scopes to ask for: maybe none)."""
    tried = []
    params = bearer_params(http.challenge(resource))
    asked = scopes(params)
    url = params.get("resource_metadata")
    if url:
        # RFC 9728 section 5.1: named in the challenge, it must describe the URL asked.
        downgrade = urlsplit(resource).scheme == "https" and urlsplit(url).scheme != "https"
        if downgrade or not url_allowed(url):
            tried.append(f"{url} (named in the 401 of {resource}; not https, not used)")
        else:
            issuer, status, body = _named_issuer(http, url, resource, {resource})
            if issuer:
                return issuer, asked or _offered(body)
            tried.append(f"{url} (HTTP {status}, named in the 401 of {resource})")
    for url, identifier in protected_resource_urls(resource):
        issuer, status, body = _named_issuer(http, url, resource, {identifier, resource})
        if issuer:
            return issuer, asked or _offered(body)
        tried.append(f"{url} (HTTP {status})")
    raise ConfigError(
        f"no protected resource metadata for {resource}: tried {', '.join(tried)}",
        "give oauth.issuer instead",
    )


def _offered(body: dict) -> list[str]:
    offered = body.get("scopes_supported")
    if not isinstance(offered, list):
        return []
    return [printable(s) for s in offered if isinstance(s, str) and s and " " not in s]


def _named_issuer(http, url: str, resource: str, allowed: set[str]):
    """(the first authorization server the metadata at `url` names, or None; HTTP status;
    the metadata)."""
    status, body = http.get_json(url)
    servers = body.get("authorization_servers") if status == 200 else None
    if not (isinstance(servers, list) and servers and isinstance(servers[0], str)):
        return None, status, {}
    described = str(body.get("resource", resource)).rstrip("/")
    if described not in {a.rstrip("/") for a in allowed}:
        raise AuthFailed(
            f"the metadata at {url} describes {body.get('resource')!r}, not {resource!r}",
            "check oauth.resource",
        )
    check_url(servers[0], "authorization_servers", f"the metadata at {url}")
    return servers[0], status, body
