"""Provider definitions: JSON files checked on load into frozen records.

Bundled definitions live in providers/; a user file ~/.authsome/providers/NAME.json with a
bundled name is deep-merged over it, and any other name adds a provider.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import MappingProxyType

from authsome.errors import ConfigError, UsageError
from authsome.oauth import FLOWS
from authsome.providers import envnames
from authsome.util.names import NAME_RE
from authsome.util.record import Frozen

AUTH_TYPES = ("oauth2", "api_key")
CREDENTIAL_FIELDS = ("access_token", "id_token", "api_key")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOPBACK_HTTP = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
URL_RULE = "must be an https:// URL (http only on 127.0.0.1, localhost or [::1])"


def url_allowed(url) -> bool:
    """The rule for every URL authsome talks to, written or discovered: https, or plain http
    only on loopback; nothing unprintable (it may be shown on a terminal)."""
    if not isinstance(url, str) or not url.isprintable() or " " in url:
        return False
    return url.startswith("https://") or _LOOPBACK_HTTP.match(url) is not None


def _empty_mapping() -> MappingProxyType:
    return MappingProxyType({})


class OAuthSpec(Frozen):
    __slots__ = (
        "authorization_url",
        "token_url",
        "device_authorization_url",
        "revocation_url",
        "registration_url",
        "issuer",
        "resource",
        "scopes",
        "scope_separator",
        "client_auth",
        "supports_device_code",
        "pkce",
        "client_id",
        "client_secret_required",
        "authorization_params",
        "redirect_port",
        "iss_parameter_supported",
    )
    _defaults = {
        "authorization_url": None,
        "token_url": None,
        "device_authorization_url": None,
        "revocation_url": None,
        "registration_url": None,
        "issuer": None,
        "resource": None,
        "scopes": (),
        "scope_separator": " ",
        "client_auth": "post",
        "supports_device_code": False,
        "pkce": True,
        "client_id": None,
        "client_secret_required": False,
        "authorization_params": _empty_mapping,
        "redirect_port": None,
        "iss_parameter_supported": False,  # RFC 9207: the redirect must then carry `iss`
    }


class ApiKeySpec(Frozen):
    __slots__ = ("env_var", "header_name", "header_prefix", "key_pattern")
    _defaults = {
        "env_var": None,
        "header_name": "Authorization",
        "header_prefix": "Bearer ",
        "key_pattern": None,
    }


class Provider(Frozen):
    __slots__ = (
        "name",
        "display_name",
        "auth_type",
        "flow",
        "docs_url",
        "oauth",
        "api_key",
        "export_env",
        "sources",
    )
    _defaults = {
        "docs_url": None,
        "oauth": None,
        "api_key": None,
        "export_env": _empty_mapping,
        "sources": (),
    }

    @property
    def env_prefix(self) -> str:
        """GITHUB for github, MY_APP for my-app: the prefix of <NAME>_CLIENT_ID."""
        return env_prefix(self.name)

    def flows(self) -> tuple[str, ...]:
        """The flows this provider can use."""
        if self.auth_type == "api_key":
            return ("api_key",)
        found = []
        if self.oauth and self.oauth.authorization_url:
            found.append("pkce")
            if self.oauth.registration_url:
                found.append("dcr_pkce")
        if self.oauth and self.oauth.supports_device_code:
            found.append("device_code")
        return tuple(found)

    def to_dict(self) -> dict:
        def plain(value):
            if isinstance(value, MappingProxyType):
                return dict(value)
            if isinstance(value, tuple):
                return list(value)
            return value

        out = {
            "name": self.name,
            "display_name": self.display_name,
            "docs_url": self.docs_url,
            "auth_type": self.auth_type,
            "flow": self.flow,
        }
        if self.oauth:
            out["oauth"] = {k: plain(v) for k, v in self.oauth.fields().items()}
        if self.api_key:
            out["api_key"] = self.api_key.fields()
        out["export"] = {"env": dict(self.export_env)}
        out["sources"] = list(self.sources)
        return out


def env_prefix(name: str) -> str:
    """The provider name as an environment variable prefix: my-app -> MY_APP."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def deep_merge(base: dict, override: dict) -> dict:
    """`override` over `base`: objects merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Checker:
    """Reads one definition, naming the file and field of the first problem."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, field_name: str, problem: str) -> ConfigError:
        return ConfigError(
            f"{self.source}: field {field_name!r} {problem}",
            "fix the provider file (schema: docs/providers.md)",
        )

    def take(self, data: dict, key: str, kind, where: str, default=None, required=False):
        path = f"{where}{key}"
        if key not in data or data[key] is None:
            if required:
                raise self.fail(path, "is required")
            return default
        value = data[key]
        if kind is bool and not isinstance(value, bool):
            raise self.fail(path, "must be true or false")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(path, "must be a whole number")
        if kind is str and not isinstance(value, str):
            raise self.fail(path, "must be a string")
        if kind is list and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise self.fail(path, "must be a list of strings")
        if kind is dict and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            raise self.fail(path, "must be an object of strings")
        return value

    def url(self, data: dict, key: str, where: str, required=False) -> str | None:
        value = self.take(data, key, str, where, required=required)
        if value is None:
            return None
        if not url_allowed(value):
            raise self.fail(f"{where}{key}", URL_RULE)
        return value

    def no_unknown(self, data: dict, known: set[str], where: str) -> None:
        for key in data:
            if key not in known:
                raise self.fail(f"{where}{key}", "is not a known field")


def parse_provider(data, source: str, expect_name: str | None = None) -> Provider:
    """Check a definition (already merged) and build the Provider."""
    c = _Checker(source)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a provider definition must be a JSON object",
            "fix the provider file (schema: docs/providers.md)",
        )
    c.no_unknown(
        data,
        {
            "$schema",
            "name",
            "display_name",
            "docs_url",
            "auth_type",
            "flow",
            "oauth",
            "api_key",
            "export",
            "description",
        },
        "",
    )
    name = c.take(data, "name", str, "", required=True)
    if not NAME_RE.match(name):
        raise c.fail("name", "must be lowercase letters, digits, '.', '_' or '-'")
    if expect_name and name != expect_name:
        raise c.fail("name", f"is {name!r} but the file is named {expect_name}.json")
    auth_type = c.take(data, "auth_type", str, "", required=True)
    if auth_type not in AUTH_TYPES:
        raise c.fail("auth_type", f"must be one of {', '.join(AUTH_TYPES)}")
    flow = c.take(data, "flow", str, "", default="api_key" if auth_type == "api_key" else "pkce")
    if flow not in FLOWS:
        raise c.fail("flow", f"must be one of {', '.join(FLOWS)}")

    oauth = api_key = None
    if auth_type == "oauth2":
        raw = data.get("oauth")
        if not isinstance(raw, dict):
            raise c.fail("oauth", "is required and must be an object")
        oauth = _oauth(c, raw)
        if flow == "api_key":
            raise c.fail("flow", "cannot be api_key for an oauth2 provider")
        # With an issuer (or a protected resource naming one), missing endpoints come from the
        # issuer's metadata (authsome.oauth.discovery).
        if oauth.issuer or oauth.resource:
            pass
        elif flow == "device_code" and not (
            oauth.supports_device_code and oauth.device_authorization_url
        ):
            raise c.fail(
                "flow",
                "is device_code but oauth.supports_device_code is false or "
                "oauth.device_authorization_url is missing",
            )
        elif flow in ("pkce", "dcr_pkce") and not oauth.authorization_url:
            raise c.fail("oauth.authorization_url", f"is required for the {flow} flow")
        elif flow == "dcr_pkce" and not oauth.registration_url:
            raise c.fail("oauth.registration_url", "is required for the dcr_pkce flow")
    else:
        if flow != "api_key":
            raise c.fail("flow", "must be api_key for an api_key provider")
        raw = data.get("api_key") or {}
        if not isinstance(raw, dict):
            raise c.fail("api_key", "must be an object")
        api_key = _api_key(c, raw)

    export = data.get("export") or {}
    if not isinstance(export, dict):
        raise c.fail("export", "must be an object")
    c.no_unknown(export, {"env"}, "export.")
    env = c.take(export, "env", dict, "export.", default={})
    for cred, var in env.items():
        if cred not in CREDENTIAL_FIELDS:
            raise c.fail(f"export.env.{cred}", f"must name one of {', '.join(CREDENTIAL_FIELDS)}")
        if not _ENV.match(var):
            raise c.fail(f"export.env.{cred}", "must be an environment variable name")
        if envnames.reserved(var):
            raise c.fail(
                f"export.env.{cred}",
                f"names {var}, which changes how shells or other programs behave; use another name",
            )
    return Provider(
        name=name,
        display_name=c.take(data, "display_name", str, "", default=name),
        docs_url=c.url(data, "docs_url", ""),
        auth_type=auth_type,
        flow=flow,
        oauth=oauth,
        api_key=api_key,
        export_env=MappingProxyType(dict(env)),
        sources=(source,),
    )


def _oauth(c: _Checker, raw: dict) -> OAuthSpec:
    w = "oauth."
    c.no_unknown(raw, set(OAuthSpec.__slots__), w)
    port = c.take(raw, "redirect_port", int, w)
    if port is not None and not 1024 <= port <= 65535:
        raise c.fail("oauth.redirect_port", "must be between 1024 and 65535")
    spec = OAuthSpec(
        authorization_url=c.url(raw, "authorization_url", w),
        token_url=c.url(
            raw, "token_url", w, required="issuer" not in raw and "resource" not in raw
        ),
        device_authorization_url=c.url(raw, "device_authorization_url", w),
        revocation_url=c.url(raw, "revocation_url", w),
        registration_url=c.url(raw, "registration_url", w),
        resource=c.url(raw, "resource", w),
        issuer=c.url(raw, "issuer", w),
        scopes=tuple(c.take(raw, "scopes", list, w, default=[])),
        scope_separator=c.take(raw, "scope_separator", str, w, default=" "),
        client_auth=c.take(raw, "client_auth", str, w, default="post"),
        supports_device_code=c.take(raw, "supports_device_code", bool, w, default=False),
        pkce=c.take(raw, "pkce", bool, w, default=True),
        client_id=c.take(raw, "client_id", str, w),
        client_secret_required=c.take(raw, "client_secret_required", bool, w, default=False),
        iss_parameter_supported=c.take(raw, "iss_parameter_supported", bool, w, default=False),
        authorization_params=MappingProxyType(
            dict(c.take(raw, "authorization_params", dict, w, default={}))
        ),
        redirect_port=port,
    )
    if spec.client_auth not in ("post", "basic"):
        raise c.fail("oauth.client_auth", 'must be "post" or "basic"')
    if spec.scope_separator not in (" ", ","):
        raise c.fail("oauth.scope_separator", 'must be " " or ","')
    if spec.supports_device_code and not spec.device_authorization_url:
        raise c.fail("oauth.device_authorization_url", "is required when supports_device_code")
    return spec


def _api_key(c: _Checker, raw: dict) -> ApiKeySpec:
    w = "api_key."
    c.no_unknown(raw, set(ApiKeySpec.__slots__), w)
    pattern = c.take(raw, "key_pattern", str, w)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise c.fail(
                "api_key.key_pattern", f"is not a valid regular expression ({e})"
            ) from None
    env_var = c.take(raw, "env_var", str, w)
    if env_var is not None and not _ENV.match(env_var):
        raise c.fail("api_key.env_var", "must be an environment variable name")
    return ApiKeySpec(
        env_var=env_var,
        header_name=c.take(raw, "header_name", str, w, default="Authorization"),
        header_prefix=c.take(raw, "header_prefix", str, w, default="Bearer "),
        key_pattern=pattern,
    )


def secret_name_error(kind: str) -> UsageError:
    """The error for a NAME that may be a pasted key: it is never echoed."""
    return UsageError(
        f"unknown {kind} (the name looks like a secret, so it is not shown)",
        "a key is never an argument: run authsome login NAME and paste it when asked",
    )


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}", "check the file") from None
    except ValueError as e:
        raise ConfigError(f"{path}: not valid JSON ({e})", "fix the provider file") from None
    except RecursionError:
        raise ConfigError(f"{path}: JSON nested too deeply", "fix the provider file") from None


def _object(path: Path) -> dict:
    data = read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a provider definition must be a JSON object",
            "fix the provider file (schema: docs/providers.md)",
        )
    return data


class Registry:
    """Bundled and user providers; a name is parsed only when it is asked for."""

    def __init__(self, bundled: Path, user: Path):
        self.bundled = bundled
        self.user = user

    def names(self) -> list[str]:
        """Every provider name, from file names alone (cheap enough for Tab completion)."""
        found = {p.stem for p in self.bundled.glob("*.json")}
        if self.user.is_dir():
            found |= {p.stem for p in self.user.glob("*.json")}
        return sorted(n for n in found if NAME_RE.match(n))

    def check_known(self, name: str) -> None:
        """Raise the unknown-provider error, with the nearest name, when `name` is not one."""
        names = self.names()
        if name in names:
            return
        from authsome.util.secretlike import looks_like_secret

        if looks_like_secret(name or ""):
            raise secret_name_error("provider")
        from difflib import get_close_matches

        near = get_close_matches(name, names, n=1, cutoff=0.75)
        guess = f"did you mean {near[0]!r}? See" if near else "see"
        raise UsageError(
            f"unknown provider {name!r}",
            f"{guess}: authsome providers, or add one with: authsome register FILE",
        )

    def get(self, name: str) -> Provider:
        bundled, user = self.bundled / f"{name}.json", self.user / f"{name}.json"
        if not NAME_RE.match(name or "") or not (bundled.is_file() or user.is_file()):
            self.check_known(name)  # raises: the name is not among names()
        if bundled.is_file() and user.is_file():
            data = deep_merge(_object(bundled), _object(user))
            provider = parse_provider(data, f"{user} (over {bundled})", name)
            return provider.replace(sources=(str(bundled), str(user)))
        path = bundled if bundled.is_file() else user
        return parse_provider(read_json(path), str(path), name)

    def all(self) -> list[Provider]:
        return [self.get(n) for n in self.names()]

    def is_bundled(self, name: str) -> bool:
        return (self.bundled / f"{name}.json").is_file()
