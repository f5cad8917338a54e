"""The rule for every URL authsome talks to, written in a provider file or discovered."""

from __future__ import annotations

import re

_LOOPBACK_HTTP = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
URL_RULE = "must be an https:// URL (http only on 127.0.0.1, localhost or [::1])"


def url_allowed(url) -> bool:
    """https, or plain http only on loopback, and nothing unprintable (it may reach a terminal)."""
    if not isinstance(url, str) or not url.isprintable() or " " in url:
        return False
    return url.startswith("https://") or _LOOPBACK_HTTP.match(url) is not None
