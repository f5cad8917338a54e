"""A provider for any MCP server from its URL: `authsome register --resource URL`, and
`authsome mcp URL` on first use. The server's RFC 9728 metadata names its authorization
server, whose RFC 8414 metadata gives the endpoints; the provider file holds only the URL, so
the endpoints are found again (and checked again) as for any provider with oauth.resource."""

from __future__ import annotations

from urllib.parse import urlsplit

from authsome.errors import ConfigError, UsageError

_SKIPPED = ("mcp", "www", "api")  # leading host labels that say nothing of whose server it is


def is_url(text: str) -> bool:
    return "://" in text


def derived_name(url: str) -> str:
    """A provider name for the MCP server at `url`: mcp.linear.app -> linear-mcp."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "localhost" or _is_ip(host):
        base = "mcp-" + "".join(c if c.isalnum() else "-" for c in host).strip("-")
        return f"{base}-{parts.port}" if parts.port else base
    labels = [label for label in host.split(".") if label]
    while len(labels) > 2 and labels[0] in _SKIPPED:
        labels.pop(0)
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in labels[0]).strip("-")
    name = f"{label}-mcp"
    return name if name[0].isalpha() else f"mcp-{name}"


def _is_ip(host: str) -> bool:
    import ipaddress  # here: `authsome mcp NAME` never needs it

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.rstrip("/") == b.rstrip("/")


def provider_for(ctx, url: str) -> str | None:
    """The name of a provider (bundled or the user's) whose MCP server is `url`, if any."""
    for name in ctx.registry.names():
        try:
            oauth = ctx.registry.get(name).oauth
        except ConfigError:
            continue  # a broken file of another provider does not stop this one
        if oauth is not None and _same(oauth.resource, url):
            return name
    return None


def register_resource(ctx, url: str, name: str | None = None, force: bool = False) -> str:
    """Install a provider for the MCP server at `url`, after discovering its authorization
    server once; its name (`name`, or one made from the host)."""
    from authsome.oauth import discovery
    from authsome.providers.model import env_prefix
    from authsome.providers.urls import URL_RULE, url_allowed
    from authsome.services.providers import install
    from authsome.storage.connection import check_name

    if not url_allowed(url):
        raise UsageError(f"the MCP server URL {URL_RULE}", "give its https:// URL")
    name = name or _free_name(ctx, derived_name(url))
    check_name("provider", name)
    from authsome.oauth.resource import discover

    issuer, scopes = discover(ctx.http, url)
    metadata = discovery.fetch(ctx.http, issuer)
    data = {
        "name": name,
        "display_name": f"MCP server at {urlsplit(url).netloc}",
        "auth_type": "oauth2",
        # Dynamic registration when the server offers it (as MCP servers do), else a client
        # ID given at login (--client-id) or pre-registered in the file.
        "flow": "dcr_pkce" if metadata.get("registration_endpoint") else "pkce",
        "oauth": {"resource": url},
        "export": {"env": {"access_token": f"{env_prefix(name)}_TOKEN"}},
    }
    install(ctx, data, f"the metadata of {url}", force)
    discovery.keep(ctx, name, [None, url], issuer, metadata, scopes)  # fetched once
    return name


def _free_name(ctx, name: str) -> str:
    """`name`, or `name-2`, `name-3`... if another provider has it."""
    known = set(ctx.registry.names())
    found, n = name, 1
    while found in known:
        n += 1
        found = f"{name}-{n}"
    return found


def bridged(ctx, name_or_url: str) -> str:
    """The provider `authsome mcp` bridges to: NAME, or for a URL its provider, made now if
    there is none yet (and said on stderr)."""
    if not is_url(name_or_url):
        return name_or_url
    found = provider_for(ctx, name_or_url)
    if found is not None:
        return found
    try:
        name = register_resource(ctx, name_or_url)
    except ConfigError as e:
        raise ConfigError(f"cannot set up the MCP server {name_or_url}: {e.what}", e.fix) from None
    ctx.io.say(
        f"authsome: made the provider {name} for {name_or_url}; next time: authsome mcp {name}"
    )
    return name
