"""Provider JSON checked on load: a problem names the file and the field.

A definition is checked after any user override is merged over it (authsome.providers.registry)
and becomes the frozen records of authsome.providers.model.
"""

from __future__ import annotations

from types import MappingProxyType

from authsome.errors import ConfigError
from authsome.providers import envnames
from authsome.providers.flownames import NAMES as FLOWS
from authsome.providers.hosts import parse_hosts
from authsome.providers.model import ApiKeySpec, OAuthSpec, Provider
from authsome.providers.tools import TOOL_FIELDS, parse_tools
from authsome.providers.urls import URL_RULE, url_allowed
from authsome.util.names import is_name

AUTH_TYPES = ("oauth2", "api_key")
CREDENTIAL_FIELDS = ("access_token", "id_token", "api_key")


def _fix() -> str:
    from authsome.util.resources import doc_path

    return f"fix the provider file (schema: {doc_path('providers.md')})"


_TOP_LEVEL = frozenset(
    (
        "$schema",
        "name",
        "display_name",
        "docs_url",
        "auth_type",
        "flow",
        "oauth",
        "api_key",
        "export",
        "hosts",
        "description",
        *TOOL_FIELDS,
    )
)


def _is_env_name(text) -> bool:
    """[A-Za-z_][A-Za-z0-9_]*, whole: the regex's $ let a final newline through, which put a
    line break into `export NAME=...` (and the next line ran the value as a command)."""
    return isinstance(text, str) and text.isascii() and text.isidentifier()


def not_an_object(source: str) -> ConfigError:
    """The error for a definition that is not a JSON object."""
    return ConfigError(f"{source}: a provider definition must be a JSON object", _fix())


# kind -> (does the value have it, what the error says when not); bool is not an int here.
_KINDS = {
    bool: (lambda v: isinstance(v, bool), "must be true or false"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "must be a whole number"),
    str: (lambda v: isinstance(v, str), "must be a string"),
    list: (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "must be a list of strings",
    ),
    dict: (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "must be an object of strings",
    ),
}


class _Checker:
    """Reads one definition, naming the file and field of the first problem."""

    def __init__(self, source: str, bundled: bool = False):
        self.source = source
        self.bundled = bundled

    def fail(self, field_name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: field {field_name!r} {problem}", _fix())

    def take(self, data: dict, key: str, kind, where: str, default=None, required=False):
        path = f"{where}{key}"
        if key not in data or data[key] is None:
            if required:
                raise self.fail(path, "is required")
            return default
        value = data[key]
        check, problem = _KINDS[kind]
        if not check(value):
            raise self.fail(path, problem)
        return value

    def url(self, data: dict, key: str, where: str, required=False) -> str | None:
        value = self.take(data, key, str, where, required=required)
        if value is None:
            return None
        if not url_allowed(value):
            raise self.fail(f"{where}{key}", URL_RULE)
        return value

    def no_unknown(self, data: dict, known: set[str] | frozenset[str], where: str) -> None:
        for key in data:
            if key not in known:
                raise self.fail(f"{where}{key}", "is not a known field")


def parse_provider(
    data, source: str, expect_name: str | None = None, bundled: bool = False
) -> Provider:
    """Check a definition (already merged) and build the Provider. A bundled definition's
    key_pattern is not compiled: the tests compile every one, and `env` would pay for `re`."""
    if not isinstance(data, dict):
        raise not_an_object(source)
    c = _Checker(source, bundled)
    c.no_unknown(data, _TOP_LEVEL, "")
    name = _name(c, data, expect_name)
    auth_type, flow = _auth_type_and_flow(c, data)
    oauth = api_key = None
    if auth_type == "oauth2":
        oauth = _oauth_for_flow(c, data, flow)
    else:
        api_key = _api_key_for_flow(c, data, flow)
    env = _export_env(c, data, name)
    return Provider(
        name=name,
        display_name=c.take(data, "display_name", str, "", default=name),
        docs_url=c.url(data, "docs_url", ""),
        auth_type=auth_type,
        flow=flow,
        oauth=oauth,
        api_key=api_key,
        export_env=MappingProxyType(dict(env)),
        hosts=parse_hosts(c, data),
        sources=(source,),
        **parse_tools(c, data),
    )


RESERVED_NAMES = ("config",)  # `authsome mcp config` configures clients; it bridges no server


def _name(c: _Checker, data: dict, expect_name: str | None) -> str:
    name = c.take(data, "name", str, "", required=True)
    if not is_name(name):
        raise c.fail("name", "must be lowercase letters, digits, '.', '_' or '-'")
    if name in RESERVED_NAMES:
        raise c.fail("name", f"may not be {name!r}: `authsome mcp {name}` is a command")
    if expect_name and name != expect_name:
        raise c.fail("name", f"is {name!r} but the file is named {expect_name}.json")
    return name


def _auth_type_and_flow(c: _Checker, data: dict) -> tuple[str, str]:
    auth_type = c.take(data, "auth_type", str, "", required=True)
    if auth_type not in AUTH_TYPES:
        raise c.fail("auth_type", f"must be one of {', '.join(AUTH_TYPES)}")
    flow = c.take(data, "flow", str, "", default="api_key" if auth_type == "api_key" else "pkce")
    if flow not in FLOWS:
        raise c.fail("flow", f"must be one of {', '.join(FLOWS)}")
    return auth_type, flow


def _oauth_for_flow(c: _Checker, data: dict, flow: str) -> OAuthSpec:
    raw = data.get("oauth")
    if not isinstance(raw, dict):
        raise c.fail("oauth", "is required and must be an object")
    oauth = _oauth(c, raw)
    if flow == "api_key":
        raise c.fail("flow", "cannot be api_key for an oauth2 provider")
    if oauth.issuer or oauth.resource:
        # Missing endpoints come from the issuer's metadata (authsome.oauth.discovery).
        return oauth
    if flow == "device_code" and not (
        oauth.supports_device_code and oauth.device_authorization_url
    ):
        raise c.fail(
            "flow",
            "is device_code but oauth.supports_device_code is false or "
            "oauth.device_authorization_url is missing",
        )
    if flow in ("pkce", "dcr_pkce") and not oauth.authorization_url:
        raise c.fail("oauth.authorization_url", f"is required for the {flow} flow")
    if flow == "dcr_pkce" and not oauth.registration_url:
        raise c.fail("oauth.registration_url", "is required for the dcr_pkce flow")
    return oauth


def _api_key_for_flow(c: _Checker, data: dict, flow: str) -> ApiKeySpec:
    if flow != "api_key":
        raise c.fail("flow", "must be api_key for an api_key provider")
    raw = data.get("api_key") or {}
    if not isinstance(raw, dict):
        raise c.fail("api_key", "must be an object")
    return _api_key(c, raw)


def _export_env(c: _Checker, data: dict, name: str) -> dict:
    export = data.get("export") or {}
    if not isinstance(export, dict):
        raise c.fail("export", "must be an object")
    c.no_unknown(export, {"env"}, "export.")
    env = c.take(export, "env", dict, "export.", default={})
    for cred, var in env.items():
        where = f"export.env.{cred}"
        if cred not in CREDENTIAL_FIELDS:
            raise c.fail(where, f"must name one of {', '.join(CREDENTIAL_FIELDS)}")
        if not _is_env_name(var):
            raise c.fail(where, "must be an environment variable name")
        if not envnames.credential_like(var):
            problem = (
                f"names {var}, which does not look like a credential ({envnames.CREDENTIAL_RULE})"
            )
        elif envnames.reserved(var):
            problem = f"names {var}, which changes how shells or other programs behave"
        else:
            continue
        raise ConfigError(
            f"{c.source}: field {where!r} {problem}",
            f'pick another name, or export it yourself: export {var}="$(authsome token {name})"',
        )
    return env


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
    if pattern is not None and not c.bundled:
        import re

        try:
            re.compile(pattern)
        except re.error as e:
            raise c.fail(
                "api_key.key_pattern", f"is not a valid regular expression ({e})"
            ) from None
    env_var = c.take(raw, "env_var", str, w)
    if env_var is not None and not _is_env_name(env_var):
        raise c.fail("api_key.env_var", "must be an environment variable name")
    return ApiKeySpec(
        env_var=env_var,
        header_name=c.take(raw, "header_name", str, w, default="Authorization"),
        header_prefix=c.take(raw, "header_prefix", str, w, default="Bearer "),
        key_pattern=pattern,
    )
