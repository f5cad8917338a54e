"""Whether a word from the command line looks like a pasted secret, so errors never echo it."""

from __future__ import annotations

import re
from functools import cache

HIDDEN = "(not shown: it looks like a secret)"
_RUN = re.compile(r"[A-Za-z0-9]{16,}")
# Well-known token prefixes of services without a bundled key pattern (GitHub, GitLab, Slack,
# AWS, Google).
_KNOWN_PREFIX = re.compile(r"^(gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AKIA|ASIA|ya29\.|AIza)")


def looks_like_secret(word: str) -> bool:
    """True when `word` fits a bundled provider's key pattern, or holds a long random-looking
    run of letters and digits (hex, base64: the character class changes often)."""
    if len(word) < 16:
        return False
    if _KNOWN_PREFIX.match(word) or any(pattern.search(word) for pattern in _key_patterns()):
        return True
    return any(_switches(run) >= 4 for run in _RUN.findall(word))


def hide(message: str, words) -> str:
    """`message` with every secret-looking word (or part of NAME:CONNECTION, --opt=VALUE) hidden;
    a word that names an existing file is a path, and is kept."""
    import os

    for word in words:
        for part in re.split(r"[:=]", word):
            if part in message and looks_like_secret(part) and not os.path.exists(part):
                message = message.replace(part, HIDDEN)
    return message


def _switches(run: str) -> int:
    """How often the run changes between lower case, upper case and digits."""
    kinds = ["d" if c.isdigit() else "u" if c.isupper() else "l" for c in run]
    return sum(a != b for a, b in zip(kinds, kinds[1:], strict=False))


@cache  # the audit log checks every request a long-lived proxy signs
def _key_patterns() -> list[re.Pattern]:
    import json

    from authsome.util.resources import data_dir

    found = []
    for path in sorted(data_dir("providers").glob("*.json")):
        try:
            pattern = json.loads(path.read_text(encoding="utf-8"))["api_key"]["key_pattern"]
            found.append(re.compile(pattern))
        except (OSError, ValueError, KeyError, TypeError, re.error):
            continue
    return found
