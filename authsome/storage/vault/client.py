"""The few calls of Vault's HTTP API that authsome needs, each with a deadline.

Why not hvac: authsome needs eight calls (KV v2 read, write with cas, list, delete; token
lookup; seal status; mount check; AppRole login). hvac would bring requests and its own import
time to every `authsome token`, and the errors below have to be mapped to authsome's exit
codes either way. The calls go over the standard library's http.client (wire.py says why);
README, "Many machines", says the same.

On a Raft cluster, OpenBao's standbys serve reads from their own copy, which trails the
leader's; so every call after the first answer sends that answer's X-Vault-Index (`_send`).
"""

from __future__ import annotations

from urllib.parse import quote

from authsome.errors import ConfigError, StoreConflict, StoreDenied, StoreUnavailable

CAS_MISMATCH = "check-and-set"  # in Vault's 400 answer to a write whose cas did not match
BEHIND = (412, 429)  # a standby that has not caught up with the index sent: Vault, OpenBao
FIRST_PAUSE, MAX_PAUSE = 0.05, 0.5  # asking a standby again; it trails by about a heartbeat


class VaultClient:
    """KV v2 at settings.mount, authenticated lazily; every failure is a one-line error."""

    def __init__(self, settings, deadline: float = 30.0):
        self.settings = settings
        self.deadline = deadline
        self._wire = None
        self._token: str | None = None
        self._kv2_checked = False
        self._index: str | None = None  # X-Vault-Index of the last answer (read-your-writes)

    # -- plumbing ----------------------------------------------------------------------
    @property
    def wire(self):
        if self._wire is None:
            from authsome.storage.vault.wire import open_wire

            if self.settings.cacert:
                self._tls()  # a CA file that cannot be read is a mistake even over http://
            self._wire = open_wire(
                self.settings.addr, self._tls, self.settings.namespace, self.deadline
            )
        return self._wire

    def _tls(self):
        """The system's trust store, or VAULT_CACERT's CA alone when it is set."""
        import ssl

        try:
            return ssl.create_default_context(cafile=self.settings.cacert or None)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(
                f"the Vault CA file {self.settings.cacert} cannot be read"
                f" ({getattr(e, 'strerror', None) or e.__class__.__name__})",
                "set VAULT_CACERT (or vault.cacert in config.json) to the server's CA, in PEM",
            ) from None

    @property
    def where(self) -> str:
        return f"the Vault server at {self.settings.addr}"

    def _send(self, method: str, path: str, body=None, token: bool = True):
        """(status, JSON body or {}) of one call, bounded by the deadline."""
        import time

        headers = {"X-Vault-Token": self.token()} if token else {}
        if self._index:
            # OpenBao's Raft standbys serve reads, and check a write's cas, from their own copy,
            # which trails the active node by up to a heartbeat (~0.1 s): without this, the
            # lock's second write (cas = the version its first returned) fails on a standby that
            # has not applied the first yet. Given the index of our last answer, a standby that
            # has not caught up with it says so (429; Vault Enterprise: 412), and is asked again.
            # No X-Vault-Inconsistent: OpenBao's values for it are not all Vault's.
            headers["X-Vault-Index"] = self._index
        ends, pause = time.monotonic() + self.deadline, FIRST_PAUSE
        while True:
            status, data, index = self._exchange(method, path, body, headers, ends)
            if status not in BEHIND or not self._index or time.monotonic() + pause >= ends:
                break
            time.sleep(pause)
            pause = min(pause * 1.6, MAX_PAUSE)
        if index and (status < 400 or status == 404):
            self._index = index  # as new as ours at least: a standby answers once caught up
        return status, data

    def _exchange(self, method: str, path: str, body, headers: dict, ends: float):
        """(status, JSON body or {}, index) of one exchange, bounded by `ends` (monotonic)."""
        import time

        from authsome.storage.vault.wire import WireError
        from authsome.util.deadline import DeadlineExceeded, within

        wire = self.wire
        try:
            return within(
                lambda: wire.request(method, f"/v1/{path}", body, headers),
                max(0.001, ends - time.monotonic()),
                "authsome-vault",
            )
        except DeadlineExceeded:
            # The call goes on in an abandoned thread: cut its socket (closing would wait for
            # the lock the stuck read holds), and let the next call open another.
            wire.abandon()
            raise StoreUnavailable(
                f"{self.where} did not answer within {self.deadline:g} s",
                "check the server, or raise AUTHSOME_HTTP_TIMEOUT",
            ) from None
        except WireError as e:
            raise StoreUnavailable(
                f"cannot reach {self.where} ({e})",
                "check VAULT_ADDR and that the server is running",
            ) from None

    def _call(self, method: str, path: str, body=None, missing_ok: bool = False):
        status, data = self._send(method, path, body)
        if status in (200, 204) or (missing_ok and status == 404):
            return status, data
        raise self._error(status, data, method, path)

    def _error(self, status: int, data: dict, method: str, path: str) -> Exception:
        errors = " ".join(str(e) for e in data.get("errors") or [])[:200]
        if status == 503 and "sealed" in errors:
            return StoreUnavailable(
                f"{self.where} is sealed", "ask its operator to unseal it (bao operator unseal)"
            )
        if status in (401, 403):
            return self._denied(method, path)
        if status in BEHIND and self._index and not errors:
            return StoreUnavailable(
                f"{self.where} did not catch up within {self.deadline:g} s with what this"
                " process had already read or written there",
                "check the cluster's health (bao operator raft autopilot state)",
            )
        if status == 400 and CAS_MISMATCH in errors:
            return StoreConflict(
                f"{path} changed on {self.where} while authsome was writing it",
                "run the command again",
            )
        from authsome.util.termtext import printable

        return StoreUnavailable(
            f"{self.where} answered {method} {path} with HTTP {status} ({printable(errors)})",
            "check the server's logs (authsome doctor shows the setup)",
        )

    def _not_vault(self, method: str, path: str) -> Exception:
        return StoreUnavailable(
            f"{self.where} did not answer {method} {path} as an OpenBao or Vault server would",
            "check VAULT_ADDR: it may name another web server, or a login page in front of Vault",
        )

    def _denied(self, method: str, path: str) -> Exception:
        """A 403 means a bad token or a policy; ask the token itself which."""
        credential = self.settings.credential
        status, _ = self._send("GET", "auth/token/lookup-self")
        if status in (401, 403):
            # A token without the default policy may not look itself up; any valid token may
            # list the mounts it can see, and an invalid one may not.
            status, _ = self._send("GET", "sys/internal/ui/mounts")
        if status in (401, 403):
            return StoreDenied(
                f"the Vault token from {credential.source} is invalid or has expired",
                "log in again (bao login or vault login), or set VAULT_TOKEN",
            )
        verb = {"GET": "read", "LIST": "list", "DELETE": "delete"}.get(method, "write")
        s = self.settings
        fix = f"ask for a policy that grants it on {s.mount}/data/{s.prefix}/*"
        if not path.startswith(f"{s.mount}/"):
            fix = f"keep the default policy on the token, or grant {verb} on {path}"
        return StoreDenied(
            f"{self.where} denied permission to {verb} {path}", f"{fix} (see README, Many machines)"
        )

    # -- authentication ----------------------------------------------------------------
    def token(self) -> str:
        """The Vault token: given, or from an AppRole login; kept in memory only."""
        if self._token is None:
            credential = self.settings.credential
            if credential is None:
                raise ConfigError(
                    f"no Vault token for {self.where}",
                    "set VAULT_TOKEN, run bao login (or vault login), or set VAULT_ROLE_ID and"
                    " VAULT_SECRET_ID",
                )
            self._token = credential.token if credential.kind == "token" else self._approle()
        return self._token

    def _approle(self) -> str:
        credential = self.settings.credential
        body = {"role_id": credential.role_id, "secret_id": credential.secret_id}
        status, data = self._send(
            "POST", f"auth/{credential.approle_mount}/login", body, token=False
        )
        token = (data.get("auth") or {}).get("client_token") if status == 200 else None
        if not token:
            if status == 503:
                raise self._error(status, data, "POST", "login")
            raise StoreDenied(
                f"the AppRole login at {self.where} failed (HTTP {status})",
                "check VAULT_ROLE_ID and VAULT_SECRET_ID, and that the secret_id is still valid",
            )
        return token

    # -- KV version 2 ------------------------------------------------------------------
    def _kv(self, area: str, path: str) -> str:
        full = f"{self.settings.prefix}/{path}" if self.settings.prefix else path
        return f"{self.settings.mount}/{area}/{quote(full)}"

    def read(self, path: str) -> tuple[dict | None, int]:
        """(data, version) at `path`; (None, version or 0) when there is none."""
        status, body = self._call("GET", self._kv("data", path), missing_ok=True)
        inner = body.get("data") or {}
        version = int((inner.get("metadata") or {}).get("version") or 0)
        if status == 404:
            self.check_kv2()  # on a v1 mount every v2 path is missing: say what is wrong
            return None, version
        if not version or not isinstance(inner.get("data"), dict | type(None)):
            raise self._not_vault("GET", path)
        self._kv2_checked = True  # only a v2 mount answers in this shape
        return inner.get("data"), version

    def write(self, path: str, data: dict, cas: int | None = None) -> int:
        """Write `data`; with `cas`, only if the current version is `cas` (0: none yet)."""
        self.check_kv2()  # a v1 mount would take the write, at the wrong path
        body = {"data": data}
        if cas is not None:
            body["options"] = {"cas": cas}
        _, answer = self._call("POST", self._kv("data", path), body)
        version = (answer.get("data") or {}).get("version")
        if not isinstance(version, int) or version < 1:
            raise self._not_vault("POST", path)  # an HTML page with 200 stored nothing
        return version

    def delete(self, path: str) -> bool:
        """Remove every version of `path`; False when there was nothing there."""
        self.check_kv2()
        status, _ = self._call("GET", self._kv("metadata", path), missing_ok=True)
        if status == 404:
            return False
        self._call("DELETE", self._kv("metadata", path))
        return True

    def list(self, path: str = "") -> list[str]:
        """The names just under `path` (folders end with '/'); [] when there are none."""
        status, body = self._call("LIST", self._kv("metadata", path), missing_ok=True)
        if status == 404:
            return []
        keys = (body.get("data") or {}).get("keys")
        if not isinstance(keys, list):
            raise self._not_vault("LIST", path)
        return [str(k) for k in keys]

    def check_kv2(self) -> None:
        """Raise ConfigError unless the mount is a KV version 2 engine (asked once)."""
        if self._kv2_checked:
            return
        mount = self.settings.mount
        status, body = self._send("GET", f"sys/internal/ui/mounts/{quote(mount)}")
        info = body.get("data") or {}
        version = str((info.get("options") or {}).get("version") or "1")
        if status == 200 and info.get("type") in ("kv", "generic") and version == "2":
            self._kv2_checked = True
            return
        if status == 200 and not info:
            raise self._not_vault("GET", f"sys/internal/ui/mounts/{mount}")
        if status == 403 and self._is_root():
            status = 404  # the root token sees every mount: this one does not exist
        if status in (200, 400, 404):
            what = "is a KV version 1 mount" if status == 200 else "is not a mount"
            if status == 200 and info.get("type") not in ("kv", "generic"):
                what = f"is a {info.get('type')} mount"
            raise ConfigError(
                f"{mount}/ on {self.where} {what}; authsome needs KV version 2",
                f"enable one (bao secrets enable -path={mount} kv-v2), or set vault.mount in"
                " config.json",
            )
        raise self._error(status, body, "GET", f"sys/internal/ui/mounts/{mount}")

    def _is_root(self) -> bool:
        status, body = self._send("GET", "auth/token/lookup-self")
        return status == 200 and "root" in ((body.get("data") or {}).get("policies") or ())

    # -- about the token and the server, for doctor -------------------------------------
    def lookup_self(self) -> dict:
        return self._call("GET", "auth/token/lookup-self")[1].get("data") or {}

    def sealed(self) -> bool | None:
        status, body = self._send("GET", "sys/seal-status", token=False)
        return body.get("sealed") if status == 200 else None

    def leave(self) -> None:
        """Forget the connection without closing it: it is another process's (a forked one)."""
        self._wire = None

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
