"""A local OAuth 2.0 authorization server for tests, on 127.0.0.1 at a random port.

It implements device authorization (RFC 8628), authorization code with PKCE (RFC 7636),
refresh with rotation and reuse detection, and revocation (RFC 7009). Tests script the
person: approve or deny device codes, and count every request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict]] = []
        self.device: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.refresh: dict[str, dict] = {}  # refresh token -> {"family", "used"}
        self.revoked_families: set[str] = set()
        self.access: set[str] = set()
        self.expiry: dict[str, float] = {}  # access token -> when it expires (time.time())
        self.revoked: list[tuple[str, str]] = []
        self.audience: dict[str, str | None] = {}  # access token -> the resource it is for
        self.granted: dict[str, str] = {}  # access token -> the scope it was issued with
        self.family_resource: dict[str, str | None] = {}  # the resource a login was granted for
        # RFC 8707 as node-oidc-provider enforces it: a refresh may name only the resource its
        # grant named, so a grant without one cannot be refreshed for one (invalid_target).
        self.resource_indicators = False
        # Behaviour knobs, set by tests.
        # Polls a tenth of a second apart: a login waits 0.1 s, not 1 s, where polling is not
        # what a test is about (device.py takes fractional intervals as a server gives them).
        self.interval: float = 0.1
        self.device_expires_in = 60
        # Approved at the first poll, so a login waits one interval, not two; tests of
        # polling set it (None: nobody approves).
        self.approve_after_polls: int | None = 0
        self.deny = False
        self.slow_down_polls = 0
        self.github_style = False  # errors with HTTP 200, as GitHub does
        self.access_expires_in: int | None = 3600
        self.refresh_expires_in_omitted = False
        self.refreshed_expires_in: int | None = None  # lifetime of refreshed tokens, if other
        self.refresh_delay = 0.0
        self.refresh_answer_delay = 0.0  # after rotating: the old refresh token is spent by then
        self.revoke_status = 200
        self.revoke_error = "temporarily_unavailable"  # the error code of a failed revocation
        self.issuer = None  # an `iss` to return on the authorization redirect
        self.iss_supported = False  # metadata promises `iss` on the redirect (RFC 9207)
        self.metadata_paths = {"/.well-known/oauth-authorization-server"}
        self.metadata_issuer = None  # None: the server's own URL
        self.metadata_override: dict = {}  # fields of the RFC 8414 metadata to replace
        self.authorization_servers = None  # what RFC 9728 metadata names (None: this server)
        self.root_resource_metadata = False  # serve RFC 9728 metadata at the root too
        self.hinted_resource = None  # what /meta/prm-hinted says it describes (None: /mcp-hinted)
        self.registration_error = None
        self.device_override: dict = {}  # fields of the device authorization answer to replace
        self.token_error = None  # (error, error_description) for every device token poll
        self.scopes_supported: list[str] | None = None  # metadata's scopes_supported
        self.registrations: list[dict] = []
        # A Client ID Metadata Document this server serves at /client.json (None: no such
        # page); a URL client ID is fetched and checked at /authorize, as the MCP spec asks.
        self.client_document: dict | None = None
        # Faults, set by tests.
        # Called when a refresh request arrives, before it is answered; returning "drop" loses
        # the request (no answer, no rotation).
        self.on_refresh = None
        # Called with ("request", form) as a refresh request arrives and ("answered", form) once
        # its answer is sent: a kill sweep times its signals by them.
        self.on_refresh_stage = None
        # Set to a threading.Event: refresh answers wait (a minute at most) until it is set, so a
        # test holds one in flight for as long as it needs, and no longer.
        self.refresh_gate: threading.Event | None = None
        self.refresh_failure: tuple[int, str, str] | None = None  # (status, content type, body)
        self.refresh_raw: str | None = None  # a raw JSON text answered to good refresh requests
        self.drip_seconds: float | None = None  # send refresh answers one byte at a time
        self.poll_failures = 0  # device-code polls answered 503 before the real answer

    def count(self, path: str, grant: str | None = None) -> int:
        return sum(
            1
            for p, form in self.requests
            if p == path and (grant is None or form.get("grant_type") == grant)
        )


class Handler(BaseHTTPRequestHandler):
    server: OAuthServer

    def log_message(self, format, *args):  # noqa: A002
        return

    def _send(self, status: int, body: dict | str, ctype="application/json", headers=None):
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: str, description: str = "", status: int = 400):
        st = self.server.state
        self._send(
            200 if st.github_style else status,
            {"error": code, "error_description": description or code},
        )

    def do_GET(self):  # noqa: N802
        parts = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        st = self.server.state
        with st.lock:
            st.requests.append((parts.path, q))
        if parts.path == "/.well-known/oauth-protected-resource/mcp":
            # RFC 9728 metadata for a protected resource (an MCP server) at /mcp.
            servers = st.authorization_servers or [self.server.url]
            return self._send(
                200, {"resource": f"{self.server.url}/mcp", "authorization_servers": servers}
            )
        if parts.path == "/.well-known/oauth-protected-resource" and st.root_resource_metadata:
            # At the root the metadata describes the origin (RFC 9728 section 3.3).
            return self._send(
                200, {"resource": self.server.url, "authorization_servers": [self.server.url]}
            )
        if parts.path == "/mcp-hinted":
            # A resource that names its metadata only in its challenge (RFC 9728 section 5.1).
            hint = f'Bearer resource_metadata="{self.server.url}/meta/prm-hinted"'
            return self._send(401, {"error": "unauthorized"}, headers={"WWW-Authenticate": hint})
        if parts.path == "/meta/prm-hinted":
            described = st.hinted_resource or f"{self.server.url}/mcp-hinted"
            return self._send(
                200, {"resource": described, "authorization_servers": [self.server.url]}
            )
        if parts.path.startswith(
            ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
        ):
            if parts.path not in st.metadata_paths:
                return self._send(404, {"error": "not_found"})
            return self._send(200, self.server.metadata())
        if parts.path == "/client.json" and st.client_document is not None:
            return self._send(200, st.client_document)
        if parts.path != "/authorize":
            return self._send(404, {"error": "not_found"})
        if q.get("client_id", "").startswith("http") and not _document_allows(q):
            return self._send(400, "client metadata document refused", "text/plain")
        registered = [r for r in st.registrations if r["client_id"] == q.get("client_id")]
        if registered and q.get("redirect_uri") not in registered[0]["redirect_uris"]:
            return self._send(400, "redirect_uri not registered", "text/plain")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return self._send(400, "PKCE S256 required", "text/plain")
        params = {"state": q.get("state", "")}
        if st.issuer:
            params["iss"] = st.issuer
        if st.deny:
            params.update(error="access_denied", error_description="The user said no")
        else:
            code = secrets.token_urlsafe(16)
            with st.lock:
                st.codes[code] = {
                    "challenge": q["code_challenge"],
                    "redirect_uri": q["redirect_uri"],
                    "client_id": q.get("client_id"),
                    "scope": q.get("scope", ""),
                    "resource": q.get("resource"),
                }
            params["code"] = code
        self._send(302, "", "text/plain", {"Location": f"{q['redirect_uri']}?{urlencode(params)}"})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form = {"_json": raw}
        else:
            form = {k: v[0] for k, v in parse_qs(raw).items()}
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            form["_basic"] = base64.b64decode(basic[6:]).decode()
        st = self.server.state
        path = urlsplit(self.path).path
        with st.lock:
            st.requests.append((path, form))
        if path == "/register":
            return self._register(form)
        if path == "/device/code":
            return self._device_code(form)
        if path == "/token":
            return self._token(form)
        if path == "/revoke":
            with st.lock:
                st.revoked.append((form.get("token_type_hint", ""), form.get("token", "")))
                info = st.refresh.get(form.get("token", ""))
                if info:
                    st.revoked_families.add(info["family"])
            return self._send(
                st.revoke_status,
                {} if st.revoke_status < 400 else {"error": st.revoke_error},
            )
        self._send(404, {"error": "not_found"})

    def _drip(self, seconds: float):
        """A server that answers, but slower than any deadline: one byte every `seconds`."""
        body = b'{"access_token": "at-dripped", "token_type": "Bearer", "expires_in": 3600}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:
            pass

    def _register(self, form):
        st = self.server.state
        try:
            body = json.loads(form.get("_json", "{}"))
        except ValueError:
            body = {}
        if st.registration_error:
            return self._send(
                400,
                {"error": "invalid_client_metadata", "error_description": st.registration_error},
            )
        uris = body.get("redirect_uris") or []
        device_only = body.get("grant_types") == [
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token",
        ]
        if (not uris and not device_only) or not all(
            u.startswith("http://127.0.0.1:") for u in uris
        ):
            return self._send(
                400,
                {
                    "error": "invalid_redirect_uri",
                    "error_description": "loopback redirect URIs only",
                },
            )
        client = {
            "client_id": "dyn-" + secrets.token_hex(6),
            "redirect_uris": uris,
            "registration_access_token": "rat-" + secrets.token_hex(6),
            "token_endpoint_auth_method": "none",
            "grant_types": body.get("grant_types"),
        }
        with st.lock:
            st.registrations.append(client)
        self._send(201, client)

    def _device_code(self, form):
        st = self.server.state
        code = secrets.token_urlsafe(16)
        user_code = f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**4):04d}"
        with st.lock:
            st.device[code] = {
                "user_code": user_code,
                "polls": 0,
                "approved": False,
                "denied": False,
                "expires": time.time() + st.device_expires_in,
                "scope": form.get("scope", ""),
                "resource": form.get("resource"),
            }
        self._send(
            200,
            {
                "device_code": code,
                "user_code": user_code,
                "verification_uri": f"{self.server.url}/device",
                "expires_in": st.device_expires_in,
                "interval": st.interval,
                **st.device_override,
            },
        )

    def _issue(
        self, family: str | None = None, scope: str = "", refresh_call=False, resource=None
    ) -> dict:
        st = self.server.state
        access = "at-" + secrets.token_urlsafe(12)
        refresh = "rt-" + secrets.token_urlsafe(12)
        st.access.add(access)
        family = family or secrets.token_hex(4)
        st.refresh[refresh] = {"family": family, "used": False}
        if not refresh_call:
            st.family_resource[family] = resource
        st.audience[access] = st.family_resource.get(family)
        st.granted[access] = scope
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "refresh_token": refresh,
            "scope": scope,
        }
        lifetime = st.access_expires_in
        if refresh_call and st.refreshed_expires_in is not None:
            lifetime = st.refreshed_expires_in
        omit = refresh_call and st.refresh_expires_in_omitted
        if lifetime is not None and not omit:
            body["expires_in"] = lifetime
            st.expiry[access] = time.time() + lifetime
        return body

    def _token(self, form):
        st = self.server.state
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            with st.lock:
                if st.poll_failures > 0:
                    st.poll_failures -= 1
                    return self._send(503, "<html>Service Unavailable</html>", "text/html")
                d = st.device.get(form.get("device_code", ""))
                if d is None:
                    return self._error("invalid_grant", "unknown device code")
                d["polls"] += 1
                if st.token_error:
                    return self._error(*st.token_error)
                if time.time() > d["expires"]:
                    return self._error("expired_token", "The device code has expired")
                if st.deny:
                    return self._error("access_denied", "The user denied the request")
                if st.slow_down_polls > 0:
                    st.slow_down_polls -= 1
                    return self._error("slow_down", "Polling too fast")
                if st.approve_after_polls is not None and d["polls"] > st.approve_after_polls:
                    d["approved"] = True
                if not d["approved"]:
                    return self._error("authorization_pending", "Waiting for the user")
                resource = form.get("resource") or d["resource"]
                return self._send(200, self._issue(scope=d["scope"], resource=resource))
        if grant == "authorization_code":
            with st.lock:
                c = st.codes.pop(form.get("code", ""), None)
            if c is None or c["redirect_uri"] != form.get("redirect_uri"):
                return self._error("invalid_grant", "bad code or redirect_uri")
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != c["challenge"]:
                return self._error("invalid_grant", "PKCE verification failed")
            with st.lock:
                resource = form.get("resource") or c.get("resource")
                return self._send(200, self._issue(scope=c["scope"], resource=resource))
        if grant == "refresh_token":
            if st.on_refresh_stage is not None:
                st.on_refresh_stage("request", form)
            if st.on_refresh is not None and st.on_refresh() == "drop":
                self.close_connection = True
                return  # no answer, nothing changed: the request was lost on its way in
            time.sleep(st.refresh_delay)
            if st.refresh_gate is not None:
                st.refresh_gate.wait(60)
            if st.refresh_failure is not None:
                status, ctype, body = st.refresh_failure
                return self._send(status, body, ctype)
            if st.drip_seconds is not None:
                return self._drip(st.drip_seconds)
            with st.lock:
                info = st.refresh.get(form.get("refresh_token", ""))
                if info is None or info["family"] in st.revoked_families:
                    return self._error("invalid_grant", "Refresh token revoked")
                if info["used"]:  # reuse: revoke the whole family, as real servers do
                    st.revoked_families.add(info["family"])
                    return self._error("invalid_grant", "Refresh token reuse detected")
                asked = form.get("resource")
                granted = st.family_resource.get(info["family"])
                if st.resource_indicators and asked and asked != granted:
                    return self._error("invalid_target", "resource not granted to this login")
                info["used"] = True
                issued = self._issue(info["family"], refresh_call=True)
            time.sleep(st.refresh_answer_delay)
            with st.lock:
                if st.refresh_raw is not None:
                    text = st.refresh_raw.replace("@RT@", issued["refresh_token"])
                    return self._send(200, text.replace("@AT@", issued["access_token"]))
                self._send(200, issued)
            if st.on_refresh_stage is not None:
                st.on_refresh_stage("answered", form)
            return
        self._error("unsupported_grant_type")


def _document_allows(q: dict) -> bool:
    """The document at the client ID URL names itself and the redirect URI (any loopback
    port: RFC 8252 section 7.3)."""
    import urllib.request

    try:
        with urllib.request.urlopen(q["client_id"], timeout=10) as answer:  # noqa: S310 - http(s) only, checked by the caller
            doc = json.loads(answer.read())
    except (OSError, ValueError):
        return False
    redirect = urlsplit(q.get("redirect_uri", ""))
    portless = f"{redirect.scheme}://{redirect.hostname}{redirect.path}"
    return doc.get("client_id") == q["client_id"] and portless in doc.get("redirect_uris", [])


class OAuthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = State()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        # A client that hung up mid-answer (a killed authsome, a deadline) is what tests do:
        # no traceback on the run's output for it.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def metadata(self) -> dict:
        """RFC 8414 metadata for this server."""
        return {
            "issuer": self.state.metadata_issuer or self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "device_authorization_endpoint": f"{self.url}/device/code",
            "revocation_endpoint": f"{self.url}/revoke",
            "registration_endpoint": f"{self.url}/register",
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            **(
                {"scopes_supported": self.state.scopes_supported}
                if self.state.scopes_supported is not None
                else {}
            ),
            **(
                {"authorization_response_iss_parameter_supported": True}
                if self.state.iss_supported
                else {}
            ),
            **self.state.metadata_override,
        }

    def provider(self, name="testsrv", **over) -> dict:
        """A provider definition pointing at this server."""
        oauth = {
            "authorization_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            "device_authorization_url": f"{self.url}/device/code",
            "revocation_url": f"{self.url}/revoke",
            "supports_device_code": True,
            "client_id": "test-client",
            "scopes": ["read", "write"],
        }
        oauth.update(over.pop("oauth", {}))
        return {
            "name": name,
            "display_name": "Test Server",
            "auth_type": "oauth2",
            "flow": "device_code",
            "oauth": oauth,
            "export": {"env": {"access_token": "TESTSRV_TOKEN"}},
            **over,
        }

    def stop(self):
        self.shutdown()
        self.server_close()
