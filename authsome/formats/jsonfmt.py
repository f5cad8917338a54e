"""The json format: the values, their expiry, and what was exported."""

import json

NAME = "json"


def render(export) -> str:
    return (
        json.dumps(
            {"variables": export.values, "expires_at": export.expires, "refs": export.refs},
            indent=2,
        )
        + "\n"
    )
