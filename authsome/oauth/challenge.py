"""A Bearer challenge (RFC 6750 section 3, RFC 9728 section 5.1) read into its parameters:
`WWW-Authenticate: Bearer error="insufficient_scope", scope="a b", resource_metadata="..."`."""

from __future__ import annotations

import re

# auth-param = token "=" ( token / quoted-string ), as in RFC 9110 section 11.2
_PARAM = re.compile(r'([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')


def bearer_params(header: str | None) -> dict[str, str]:
    """The parameters of the Bearer challenge in `header` ({} when there is none)."""
    if not header:
        return {}
    found = re.search(r"(?i)(?:^|,)\s*bearer(?:\s+|$)", header)
    if found is None:
        return {}
    params: dict[str, str] = {}
    rest = header[found.end() :]
    for match in _PARAM.finditer(rest):
        # A token with no "=" after the params starts the next challenge (another scheme).
        between = rest[: match.start()].rstrip(", \t")
        if re.search(r"(?:^|,)\s*[A-Za-z0-9_.-]+\s+$", between + " ") and params:
            break
        name, quoted, token = match.groups()
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        params.setdefault(name.lower(), value)
    return params


def scopes(params: dict[str, str]) -> list[str]:
    """The challenge's `scope`, split at spaces."""
    return [s for s in params.get("scope", "").split(" ") if s]
