"""What the child of `run --proxy` sees: the proxy in its *_PROXY variables, a CA bundle that
trusts the run's CA, and placeholders where its credentials would be."""

from __future__ import annotations

import os
import ssl

from authsome.proxy.router import split_host

CA_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
           "GIT_SSL_CAINFO")  # fmt: skip
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/cert.pem",  # macOS, Alpine
)


def user_ca_files(environ) -> list[str]:
    """The CA files the user had pointed their tools at: trusted upstream and by the child."""
    found = []
    for var in CA_VARS:
        path = environ.get(var)
        if path and path not in found and os.path.isfile(path):
            found.append(path)
    return found


def system_bundle() -> str | None:
    """The system's trusted CAs as one PEM file (certifi is not a dependency)."""
    paths = ssl.get_default_verify_paths()
    for path in (paths.openssl_cafile, *SYSTEM_BUNDLES):
        if path and os.path.isfile(path):
            return path
    return None


def bundle(ca_pem: bytes, environ) -> bytes:
    """The system's CAs, the user's CA files, then the run's CA."""
    parts = []
    for path in dict.fromkeys(filter(None, (system_bundle(), *user_ca_files(environ)))):
        with open(path, "rb") as f:
            parts.append(f.read().rstrip(b"\n") + b"\n")
    return b"".join(parts) + ca_pem


def _bypasses(entry: str, hosts) -> bool:
    """Whether NO_PROXY `entry` would send a request for one of `hosts` around the proxy."""
    name = entry.strip().lower().lstrip("*").lstrip(".")
    for pattern in hosts:
        host = split_host(pattern)[0].removeprefix("*.")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def no_proxy(environ, hosts) -> str:
    """The user's NO_PROXY plus loopback, less whatever would bypass an intercepted host."""
    entries = []
    for var in NO_PROXY_VARS:
        entries += [e.strip() for e in environ.get(var, "").split(",") if e.strip()]
    entries += LOOPBACK
    return ",".join(e for e in dict.fromkeys(entries) if not _bypasses(e, hosts))


def child_environ(base, proxy_url: str, bundle_path: str, placeholders, hosts) -> dict:
    """`base` (already scrubbed) with the proxy, the bundle and the placeholders."""
    out = dict(base)
    out.update(placeholders)
    out.update(dict.fromkeys(PROXY_VARS, proxy_url))
    out.update(dict.fromkeys(NO_PROXY_VARS, no_proxy(base, hosts)))
    out.update(dict.fromkeys(CA_VARS, bundle_path))
    return out
