"""Where things are and which choices apply; each resolver says where its answer came from."""

from __future__ import annotations

from authsome.errors import ConfigError
from authsome.util import jsonfast
from authsome.util.fsutil import not_own_problem
from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

ENV_HOME = "AUTHSOME_HOME"
ENV_BACKEND = "AUTHSOME_BACKEND"
ENV_REFRESH_MARGIN = "AUTHSOME_REFRESH_MARGIN"
ENV_HTTP_TIMEOUT = "AUTHSOME_HTTP_TIMEOUT"
ENV_AUDIT = "AUTHSOME_AUDIT"
ENV_CLIENT_METADATA_URL = "AUTHSOME_CLIENT_METADATA_URL"
DEFAULT_HTTP_TIMEOUT = 30
BACKENDS = ("keychain", "file", "vault")
DEFAULT_REFRESH_MARGIN = 300


class Resolved(Frozen):
    """A setting's value and where it came from: 'env', 'config' or 'default'."""

    __slots__ = ("value", "source")

    if TYPE_CHECKING:
        value: Any  # str, int or float, as the setting is
        source: str


def resolve_home(environ: dict[str, str]) -> Resolved:
    """The authsome home (a str): $AUTHSOME_HOME, else ~/.authsome."""
    from authsome.storage.home import home_dir

    return Resolved(home_dir(environ), "env" if environ.get(ENV_HOME) else "default")


def load_config(path: str) -> dict:
    """The user's config.json, or {} when there is none."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}", "check its permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "fix or remove the file") from None
    try:
        data = jsonfast.loads(raw)
    except ValueError as e:  # a JSONDecodeError, or a number too long to read (no line)
        line = f" (line {e.lineno})" if hasattr(e, "lineno") else ""
        raise ConfigError(f"{path} is not valid JSON{line}", "fix or remove the file") from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply", "fix or remove the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object", "fix or remove the file")
    return data


def resolve_backend(environ: dict[str, str], config: dict, config_path: str) -> Resolved:
    """The store the user asked for ('keychain', 'file' or 'vault'), or None to probe."""
    if environ.get(ENV_BACKEND):
        value = environ[ENV_BACKEND].strip().lower()
        if value not in BACKENDS:
            raise ConfigError(
                f"{ENV_BACKEND}={environ[ENV_BACKEND]!r} is not a store",
                f"use one of: {', '.join(BACKENDS)}",
            )
        return Resolved(value, "env")
    if "backend" in config:
        value = config["backend"]
        if value not in BACKENDS:
            raise ConfigError(
                f"{config_path}: backend {value!r} is not a store",
                f"use one of: {', '.join(BACKENDS)}",
            )
        return Resolved(value, "config")
    return Resolved(None, "default")


_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def resolve_audit(environ: dict[str, str], config: dict, config_path: str) -> Resolved:
    """Whether credentials handed out are recorded in the audit log (on unless turned off)."""
    raw = environ.get(ENV_AUDIT, "").strip().lower()
    if raw:
        if raw not in _ON + _OFF:
            raise ConfigError(
                f"{ENV_AUDIT}={environ[ENV_AUDIT]!r} is not on or off", "set it to 0 or 1"
            )
        return Resolved(raw in _ON, "env")
    if "audit" in config:
        if not isinstance(config["audit"], bool):
            raise ConfigError(f"{config_path}: audit must be true or false", "fix the file")
        return Resolved(config["audit"], "config")
    return Resolved(True, "default")


def resolve_client_metadata_url(environ: dict[str, str], config: dict, config_path: str):
    """The URL of a Client ID Metadata Document describing authsome, if the user has one: the
    client ID for servers that advertise client_id_metadata_document_supported."""
    from authsome.providers.urls import URL_RULE, url_allowed

    value, source, where = environ.get(ENV_CLIENT_METADATA_URL), "env", ENV_CLIENT_METADATA_URL
    if not value and "client_metadata_url" in config:
        value, source, where = config["client_metadata_url"], "config", config_path
    if not value:
        return Resolved(None, "default")
    path = value.split("://", 1)[-1].partition("/")[2] if isinstance(value, str) else ""
    if not url_allowed(value) or not path:  # the draft: https, with a path
        raise ConfigError(
            f"{where}: client_metadata_url {URL_RULE}, with a path", "fix the setting"
        )
    return Resolved(value, source)


def resolve_refresh_margin(environ: dict[str, str]) -> Resolved:
    """Seconds before expiry at which a token is refreshed."""
    return _seconds(environ, ENV_REFRESH_MARGIN, DEFAULT_REFRESH_MARGIN, minimum=0)


def resolve_http_deadline(environ: dict[str, str]) -> Resolved:
    """Seconds one HTTP request may take in all, however slowly the server answers."""
    return _seconds(environ, ENV_HTTP_TIMEOUT, DEFAULT_HTTP_TIMEOUT, minimum=1)


def _seconds(environ: dict[str, str], name: str, default: int, minimum: int) -> Resolved:
    raw = environ.get(name)
    if raw is None or raw == "":
        return Resolved(default, "default")
    try:
        value = int(raw)
        if value < minimum:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds",
            f"set it to a whole number such as {default}",
        ) from None
    return Resolved(value, "env")


def runtime_dir(environ: dict[str, str]) -> str | None:
    """$XDG_RUNTIME_DIR when it is a usable private folder, else None."""
    raw = environ.get("XDG_RUNTIME_DIR")
    if not raw:
        return None
    return None if not_own_problem(raw, 0o077) else raw
