"""Provider definitions as frozen records: what providers/schema.py builds from checked JSON."""

from __future__ import annotations

from types import MappingProxyType

from authsome.util.record import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Mapping

    from authsome.util.record import DEFAULT


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
        "client_id_metadata_document_supported",
        "code_challenge_methods",
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
        # The server takes a URL as client ID, the Client ID Metadata Document's (MCP 2025-11-25).
        "client_id_metadata_document_supported": False,
        # The metadata's code_challenge_methods_supported; None when no metadata was fetched.
        "code_challenge_methods": None,
    }

    if TYPE_CHECKING:
        authorization_url: str | None = DEFAULT
        token_url: str | None = DEFAULT
        device_authorization_url: str | None = DEFAULT
        revocation_url: str | None = DEFAULT
        registration_url: str | None = DEFAULT
        issuer: str | None = DEFAULT
        resource: str | None = DEFAULT
        scopes: tuple[str, ...] = DEFAULT
        scope_separator: str = DEFAULT
        client_auth: str = DEFAULT
        supports_device_code: bool = DEFAULT
        pkce: bool = DEFAULT
        client_id: str | None = DEFAULT
        client_secret_required: bool = DEFAULT
        authorization_params: Mapping[str, str] = DEFAULT
        redirect_port: int | None = DEFAULT
        iss_parameter_supported: bool = DEFAULT
        client_id_metadata_document_supported: bool = DEFAULT
        code_challenge_methods: tuple[str, ...] | None = DEFAULT


class ApiKeySpec(Frozen):
    __slots__ = ("env_var", "header_name", "header_prefix", "key_pattern")
    _defaults = {
        "env_var": None,
        "header_name": "Authorization",
        "header_prefix": "Bearer ",
        "key_pattern": None,
    }

    if TYPE_CHECKING:
        env_var: str | None = DEFAULT
        header_name: str = DEFAULT
        header_prefix: str = DEFAULT
        key_pattern: str | None = DEFAULT


class GitSpec(Frozen):
    """The HTTPS hosts git asks authsome about, and the username it answers with."""

    __slots__ = ("hosts", "username")

    if TYPE_CHECKING:
        hosts: tuple[str, ...]
        username: str


class DockerSpec(Frozen):
    """The registries docker asks docker-credential-authsome about, and the username."""

    __slots__ = ("registries", "username")

    if TYPE_CHECKING:
        registries: tuple[str, ...]
        username: str


class KubernetesSpec(Frozen):
    """Which token kubectl's exec plugin hands the API server."""

    __slots__ = ("token",)
    _defaults = {"token": "access_token"}
    _secret_fields = frozenset()  # `token` names a kind of token here, never holds one

    if TYPE_CHECKING:
        token: str = DEFAULT


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
        "hosts",
        "sources",
        "git",
        "docker",
        "kubernetes",
    )
    _defaults = {
        "git": None,
        "docker": None,
        "kubernetes": None,
        "docs_url": None,
        "oauth": None,
        "api_key": None,
        "export_env": _empty_mapping,
        "hosts": (),  # where the credential is sent (authsome.providers.hosts)
        "sources": (),
    }

    if TYPE_CHECKING:
        name: str
        display_name: str
        auth_type: str
        flow: str
        docs_url: str | None = DEFAULT
        oauth: OAuthSpec | None = DEFAULT
        api_key: ApiKeySpec | None = DEFAULT
        export_env: Mapping[str, str] = DEFAULT
        hosts: tuple[str, ...] = DEFAULT
        sources: tuple[str, ...] = DEFAULT
        git: GitSpec | None = DEFAULT
        docker: DockerSpec | None = DEFAULT
        kubernetes: KubernetesSpec | None = DEFAULT

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

        out: dict[str, object] = {
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
        out["hosts"] = list(self.hosts)
        for tool in ("git", "docker", "kubernetes"):
            spec = getattr(self, tool)
            if spec is not None:
                out[tool] = {k: plain(v) for k, v in spec.fields().items()}
        out["sources"] = list(self.sources)
        return out


def credential_header(provider, secrets: dict) -> tuple[str, str]:
    """The header that carries `provider`'s credential: ('Authorization', 'Bearer <token>') for
    OAuth; the api_key's header_name and header_prefix + key for an API key."""
    if provider.auth_type == "api_key":
        spec = provider.api_key or ApiKeySpec()
        name, prefix = spec.header_name, spec.header_prefix
        if prefix and prefix[-1].isascii() and prefix[-1].isalnum():
            prefix += " "  # "Bearer" as written by hand means "Bearer "
        return name, prefix + secrets["api_key"]
    return "Authorization", "Bearer " + secrets["access_token"]


def env_prefix(name: str) -> str:
    """The provider name as an environment variable prefix: my-app -> MY_APP."""
    return "".join(c if c in _PREFIX_CHARS else "_" for c in name.upper())


_PREFIX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
