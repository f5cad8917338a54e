"""The vault store against servers that are not what VAULT_ADDR promised, and settings that
cannot be right: each ends in one line with its documented exit code, bounded in time, and
never reports a secret stored that was not (found in review)."""

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from clitools import run

pytestmark = pytest.mark.real
KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"


def _drip_server():
    """A loopback 'Vault' that sends 200 and a Content-Length, then one byte every 0.3 s."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return

            def drip(c=conn):
                try:
                    c.recv(65536)
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    for _ in range(100000):
                        c.sendall(b" ")
                        time.sleep(0.3)
                except OSError:
                    pass

            threading.Thread(target=drip, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return sock


def test_a_dripping_server_is_bounded_by_the_http_deadline(env):
    sock = _drip_server()
    port = sock.getsockname()[1]
    vault = {
        **env,
        "AUTHSOME_BACKEND": "vault",
        "VAULT_ADDR": f"http://127.0.0.1:{port}",
        "VAULT_TOKEN": "s.notarealtoken",
        "AUTHSOME_HTTP_TIMEOUT": "2",
    }
    start = time.monotonic()
    try:
        out = run(["token", "openai"], vault, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("authsome token still hung 20 s after a 2 s AUTHSOME_HTTP_TIMEOUT")
    finally:
        sock.close()
    # Well before the 30 s default deadline: the 2 s one was kept (and load cannot add 13 s).
    assert out.returncode == 4 and time.monotonic() - start < 15, out.stderr


@pytest.mark.parametrize(
    "addr",
    [
        "127.0.0.1:8200",
        "localhost:8200",
        "http://127.0.0.1:99999",
        "http://[::1",
        "ftp://127.0.0.1:8200",
        "http://user:pw@127.0.0.1:8200",
    ],
)
def test_a_malformed_vault_addr_is_a_config_error_not_a_crash(env, addr):
    out = run(
        ["list"], {**env, "AUTHSOME_BACKEND": "vault", "VAULT_ADDR": addr, "VAULT_TOKEN": "x"}
    )
    assert out.returncode == 9, out.stderr
    assert out.stderr.count("\n") == 1 and "pw" not in out.stderr


@pytest.mark.parametrize("prefix", ["team/../other", "a//b/.", "with space"])
def test_a_prefix_that_is_not_a_path_is_a_config_error(vault_env, prefix):
    home = Path(vault_env["AUTHSOME_HOME"])
    config = json.loads((home / "config.json").read_text())
    config["vault"]["prefix"] = prefix
    (home / "config.json").write_text(json.dumps(config))
    out = run(["list"], vault_env)
    assert out.returncode == 9 and "vault.prefix" in out.stderr, out.stderr


def test_a_mount_that_does_not_exist_is_reported_as_such(vault_env):
    """A root token sees every mount: a 403 for this one means it is not there (exit 9)."""
    home = Path(vault_env["AUTHSOME_HOME"])
    config = json.loads((home / "config.json").read_text())
    config["vault"]["mount"] = "nosuch"
    (home / "config.json").write_text(json.dumps(config))
    out = run(["list"], vault_env)
    assert out.returncode == 9 and "is not a mount" in out.stderr, out.stderr


def test_a_login_is_not_reported_stored_when_the_server_is_not_vault(env):
    server = _html_server()
    vault = {
        **env,
        "AUTHSOME_BACKEND": "vault",
        "VAULT_ADDR": f"http://127.0.0.1:{server.server_address[1]}",
        "VAULT_TOKEN": "s.notarealtoken",
    }
    try:
        out = run(["login", "openai"], vault, input=KEY + "\n")
    finally:
        server.shutdown()
    assert out.returncode == 4, out.stderr
    assert "as an OpenBao or Vault server would" in out.stderr
    assert "Successfully" not in out.stderr + out.stdout


def test_a_token_with_a_line_break_is_a_one_line_error_and_never_printed(vault_env):
    """http.client would refuse the header quoting the value, and --debug print it."""
    bad = {**vault_env, "VAULT_TOKEN": "s.SECRETPART1\nsecond-line"}
    debug = run(["--debug", "token", "openai"], bad)  # a traceback, by design
    assert debug.returncode == 9 and "SECRETPART1" not in debug.stderr + debug.stdout
    out = run(["token", "openai"], bad)
    assert out.returncode == 9 and out.stderr.count("\n") == 1, out.stderr


def _html_server():
    """A loopback web server that answers every request 200 with an HTML page (a captive
    portal, an SSO proxy's login page, VAULT_ADDR pointing at the wrong host)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"<html><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_LIST = do_DELETE = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
