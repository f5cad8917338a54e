"""The json format: the values, their expiry, and what was exported."""

import json

NAME = "json"


def render(result, unsets, dialect) -> str:
    return (
        json.dumps(
            {"variables": result.values, "expires_at": result.expires, "refs": result.refs},
            indent=2,
        )
        + "\n"
    )


def warnings(values: dict[str, str]) -> list[str]:
    return []
