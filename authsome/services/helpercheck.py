"""doctor's check of the tools' configs that name authsome's helpers."""

from __future__ import annotations

import os
import shutil
import sys

HELPER = "docker-credential-authsome"


def docker_config_path() -> str:
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(folder, "config.json")


def docker(problems: list[str]) -> dict:
    """Whether docker's config names the helper, and whether docker can then find it: docker
    skips a helper missing from PATH without a word, so the login seems not to work."""
    path = docker_config_path()
    try:
        from authsome.util import jsonfast

        with open(path, "rb") as f:
            config = jsonfast.loads(f.read())
    except (OSError, ValueError, RecursionError):
        return {"config": path, "names_helper": False}
    helpers = config.get("credHelpers") if isinstance(config, dict) else None
    named = isinstance(config, dict) and (
        config.get("credsStore") == "authsome"
        or (isinstance(helpers, dict) and "authsome" in helpers.values())
    )
    found = shutil.which(HELPER) if named else None
    if named and not found:
        beside = os.path.join(os.path.dirname(sys.executable), HELPER)
        how = f"ln -sf {beside} ~/.local/bin/" if os.path.exists(beside) else "reinstall authsome"
        problems.append(
            f"{path} names the authsome credential helper but {HELPER} is not on PATH, so"
            f" docker skips it. Run: {how}"
        )
    return {"config": path, "names_helper": named, "helper": found}
