"""The rule for every URL authsome talks to, written in a provider file or discovered."""

from __future__ import annotations

# Compiled on first use (re caches it): the https:// URLs of most definitions never need it.
_LOOPBACK_HTTP = r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)"
URL_RULE = "must be an https:// URL (http only on 127.0.0.1, localhost or [::1])"


def url_allowed(url) -> bool:
    """https, or plain http only on loopback, and nothing unprintable (it may reach a terminal)."""
    if not isinstance(url, str) or not url.isprintable() or " " in url:
        return False
    if url.startswith("https://"):
        return _has_host(url[len("https://") :])
    import re

    return re.match(_LOOPBACK_HTTP, url) is not None


def _has_host(rest: str) -> bool:
    """Whether what follows the scheme starts with a host: "https:///x" and "https://:443"
    name none, and a connection to them would fail in http.client, not as a config error."""
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rpartition("@")[2]
    return bool(authority if authority.startswith("[") else authority.partition(":")[0])


def check_url(value, field: str, where: str | None = None) -> None:
    """Hold a discovered URL to the provider-file rule: credentials go over https only."""
    if not url_allowed(value):
        from authsome.errors import ConfigError

        source = f" (from {where})" if where else ""
        raise ConfigError(
            f"{field} {value!r}{source} {URL_RULE.replace('must be', 'is not')}",
            "authsome will not send anything there; ask the server's operator to fix it",
        )
