"""Where the Vault server is and which token to use, found the way Vault's own CLI finds them."""

from __future__ import annotations

from pathlib import Path

from authsome.errors import ConfigError
from authsome.util.record import SECRET_FIELDS, Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.util.record import DEFAULT

DEFAULT_MOUNT = "secret"
DEFAULT_PREFIX = "authsome"
DEFAULT_APPROLE_MOUNT = "approle"


class VaultSettings(Frozen):
    """The server, the KV location and how to authenticate; the token itself is never kept here."""

    __slots__ = ("addr", "mount", "prefix", "namespace", "cacert", "credential")

    if TYPE_CHECKING:
        addr: str
        mount: str
        prefix: str
        namespace: str | None
        cacert: str | None
        credential: Credential | None


class Credential(Frozen):
    """How to get a Vault token: a token read from `source`, or an AppRole login."""

    __slots__ = ("kind", "source", "token", "role_id", "secret_id", "approle_mount")
    _secret_fields = SECRET_FIELDS | {"secret_id"}
    _defaults = {"token": None, "role_id": None, "secret_id": None, "approle_mount": None}

    if TYPE_CHECKING:
        kind: str
        source: str
        token: str | None = DEFAULT
        role_id: str | None = DEFAULT
        secret_id: str | None = DEFAULT
        approle_mount: str | None = DEFAULT


def resolve(environ: dict[str, str], config: dict, config_path: Path) -> VaultSettings:
    """The Vault settings: the environment first (VAULT_* then BAO_*), then config.json."""
    section = config.get("vault") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{config_path}: vault must be an object", "fix the file")
    addr = _first(environ, "VAULT_ADDR", "BAO_ADDR") or _text(section, "addr", config_path)
    if not addr:
        raise ConfigError(
            "the vault store needs the address of an OpenBao or Vault server",
            "set VAULT_ADDR (or BAO_ADDR), or vault.addr in config.json",
        )
    _check_addr(addr, "VAULT_ADDR" if _first(environ, "VAULT_ADDR", "BAO_ADDR") else "vault.addr")
    mount = _path(_text(section, "mount", config_path) or DEFAULT_MOUNT, "vault.mount", config_path)
    prefix = _path(
        _text(section, "prefix", config_path) or DEFAULT_PREFIX, "vault.prefix", config_path
    )
    return VaultSettings(
        addr=addr.rstrip("/"),
        mount=mount.strip("/"),
        prefix=prefix.strip("/"),
        namespace=_first(environ, "VAULT_NAMESPACE", "BAO_NAMESPACE")
        or _text(section, "namespace", config_path),
        cacert=_first(environ, "VAULT_CACERT", "BAO_CACERT")
        or _text(section, "cacert", config_path),
        credential=_credential(environ, section, config_path),
    )


def _credential(environ: dict[str, str], section: dict, config_path: Path) -> Credential | None:
    # The order of Vault's CLI (a token in the environment, then its token helper's file), with
    # AppRole in between: CI that sets an AppRole means it, whatever file a runner left behind.
    for name in ("VAULT_TOKEN", "BAO_TOKEN"):
        if environ.get(name, "").strip():
            return Credential("token", name, token=_one_word(environ[name].strip(), name))
    role_id = _secret(environ, "VAULT_ROLE_ID")
    secret_id = _secret(environ, "VAULT_SECRET_ID")
    if role_id or secret_id:
        if not (role_id and secret_id):
            raise ConfigError(
                "AppRole needs both a role_id and a secret_id",
                "set VAULT_ROLE_ID and VAULT_SECRET_ID (or their _FILE forms)",
            )
        mount = environ.get("VAULT_APPROLE_MOUNT") or _text(section, "approle_mount", config_path)
        return Credential(
            "approle",
            "AppRole",
            role_id=role_id,
            secret_id=secret_id,
            approle_mount=(mount or DEFAULT_APPROLE_MOUNT).strip("/"),
        )
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    path = home / ".vault-token"
    try:
        token = _read_private(path, "the Vault token file").strip()
    except OSError:
        return None
    return Credential("token", str(path), token=_one_word(token, str(path))) if token else None


def _read_private(path, name: str) -> str:
    """The text of a file that holds a Vault credential, refused (as the passphrase file is)
    when other users may read or change it; OSError when it cannot be opened."""
    import os

    from authsome.util.fsutil import refuse_open

    with open(path, "rb") as f:
        refuse_open(os.fstat(f.fileno()), path, name)
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{name} {path} is not UTF-8 text", "check what it holds") from None


def _path(value: str, key: str, config_path: Path) -> str:
    """A KV mount or prefix: folders of letters, digits, '_', '-' and '.', but not '.' or '..'."""
    import re

    parts = value.strip("/").split("/")
    if not all(re.fullmatch(r"[A-Za-z0-9_.-]+", p) and p not in (".", "..") for p in parts):
        raise ConfigError(
            f"{config_path}: {key} {value!r} is not a path in Vault",
            "use folders of letters, digits, '_', '-' and '.', such as authsome/team-a",
        )
    return "/".join(parts)


def _one_word(token: str, source: str) -> str:
    """`token`, unless it holds a space, a line break or a control character."""
    # Such a token could never be valid, and http.client would refuse it quoting the value.
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in token):
        raise ConfigError(
            f"the Vault token from {source} has a space or a line break in it",
            "check it: a Vault token is a single word (bao token lookup shows yours)",
        )
    return token


def _check_addr(addr: str, source: str) -> None:
    """Raise ConfigError unless `addr` is an http(s) URL with a host and a valid port."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(addr)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"{source} is not the address of a server",
            "set it to a URL such as https://bao.example.com:8200",
        )
    if parts.username or parts.password:
        raise ConfigError(
            f"{source} holds a user name or password",
            "remove it from the address: authsome authenticates with a Vault token",
        )


def cleartext_host(addr: str) -> str | None:
    """The host `addr` reaches over plain http when it is another machine; else None."""
    # Over plain http the Vault token and every record cross the network unencrypted. Loopback
    # is checked by hand: ipaddress would cost every `token` its import.
    if not addr.startswith("http://"):
        return None
    from urllib.parse import urlsplit

    host = urlsplit(addr).hostname or ""
    quad = host.split(".")
    if host in ("localhost", "::1") or (
        len(quad) == 4 and quad[0] == "127" and all(q.isdigit() and int(q) < 256 for q in quad)
    ):
        return None
    return host


def _secret(environ: dict[str, str], name: str) -> str | None:
    """`name` from the environment, or read from the file that `name`_FILE points to."""
    if environ.get(name, "").strip():
        return environ[name].strip()
    path = environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return _read_private(path, f"{name}_FILE").strip() or None
    except OSError as e:
        raise ConfigError(
            f"{name}_FILE={path} cannot be read ({e.strerror})", "check the path"
        ) from None


def _first(environ: dict[str, str], *names: str) -> str | None:
    for name in names:
        if environ.get(name, "").strip():
            return environ[name].strip()
    return None


def _text(section: dict, key: str, config_path: Path) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config_path}: vault.{key} must be a string", "fix the file")
    return value or None


def cleartext_warning(addr: str, host: str) -> str:
    return (
        f"the Vault address {addr} is plain http to {host}: the Vault token and every secret"
        " cross the network unencrypted. Use an https:// address"
    )
