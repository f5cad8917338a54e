"""HTTPS servers on 127.0.0.1 for the credential-helper tests, with a test CA of their own.

- GitServer: git's own `git http-backend` (CGI) behind HTTPS and Basic auth, as a forge is.
- KubeApiServer: a stub of the Kubernetes API server that answers /version to a bearer token.

Both accept only tokens for which `accept(token)` is true, and record every one they see.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import secrets
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA and a certificate for 127.0.0.1 it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(subject, issuer, key, signer, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    # A name of its own: in one bundle, two CAs of one name make OpenSSL check a leaf against
    # whichever comes first.
    name = f"authsome test CA {secrets.token_hex(4)}"
    ca = cert(name, name, ca_key, ca_key, True)
    san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server = cert("127.0.0.1", name, key, ca_key, False, san)
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(server.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler, folder: Path, accept):
        super().__init__(("127.0.0.1", 0), handler)
        self.ca, cert, key = make_ca(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.accept = accept
        self.seen: list[str] = []  # every credential presented, accepted or not
        self.url = f"https://127.0.0.1:{self.server_address[1]}"
        self.host = f"127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class _GitHandler(BaseHTTPRequestHandler):
    server: GitServer

    def log_message(self, format, *args):  # noqa: A002
        return

    def do_GET(self):  # noqa: N802
        self._serve()

    def do_POST(self):  # noqa: N802
        self._serve()

    def _password(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        self.server.seen.append(password)
        self.server.users.append(user)
        return password

    def _serve(self):
        password = self._password()
        if password is None or not self.server.accept(password):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test forge"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "tester",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        out = subprocess.run([GIT_HTTP_BACKEND], input=body, env=env, capture_output=True)
        head, _, payload = out.stdout.partition(b"\r\n\r\n")
        headers = [line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for k, v in headers:
            if k.lower() != "status":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class GitServer(_TLSServer):
    """Bare repositories under `root`, over HTTPS, for Basic auth with an accepted password."""

    def __init__(self, root: Path, folder: Path, accept):
        self.root = root
        self.users: list[str] = []
        super().__init__(_GitHandler, folder, accept)


class _KubeHandler(BaseHTTPRequestHandler):
    server: KubeApiServer

    def log_message(self, format, *args):  # noqa: A002
        return

    def do_GET(self):  # noqa: N802
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        if token is not None:
            self.server.seen.append(token)
        if token is None or not self.server.accept(token):
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 401}
            return self._send(401, body)
        if self.path != "/version":
            return self._send(404, {"kind": "Status", "status": "Failure", "code": 404})
        self._send(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-authsome-stub"})

    def _send(self, status: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class KubeApiServer(_TLSServer):
    """A stub of the API server: GET /version for an accepted bearer token, else 401."""

    def __init__(self, folder: Path, accept):
        super().__init__(_KubeHandler, folder, accept)
