"""What `run --proxy` lets through, logs and asks for (issue #24): hand-written request bytes
through the real proxy (CONNECT, TLS with the run's CA) to an upstream that keeps exactly what
it received; the audit line and stderr for a request that never got out; and how often a
failing token endpoint is asked while requests keep coming."""

import json
import sys
import time
from pathlib import Path

import pytest
from clitools import run
from proxyservers import RAW_CLIENT, ApiServer
from realparts import require

pytestmark = pytest.mark.real


def _send(env, raw, tmp_path, *requests: bytes) -> list[str]:
    """What the child read back for each request, each sent on a tunnel of its own."""
    paths = []
    for i, data in enumerate(requests):
        paths.append(tmp_path / f"request{i}")
        paths[-1].write_bytes(data)
    argv = [sys.executable, "-c", RAW_CLIENT, raw.host, *map(str, paths)]
    out = run(["run", "--proxy", "testsrv", "--", *argv], env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _proxy_lines(env) -> list[dict]:
    lines = run(["log", "--json", "-n", "100"], env).stdout.splitlines()
    return [d for d in map(json.loads, lines) if d["event"] == "proxy"]


def test_a_request_with_both_lengths_is_refused_before_the_upstream(raw_env, raw, tmp_path):
    """Forwarded with both, a Content-Length upstream took the next, signed request (token
    and all) as this one's body: a request the audit log never saw."""
    smuggle = (
        f"POST /smuggle HTTP/1.1\r\nHost: {raw.host}\r\nContent-Length: 300\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        f"GET /next HTTP/1.1\r\nHost: {raw.host}\r\nConnection: close\r\n\r\n"
    ).encode()
    (answer,) = _send(raw_env, raw, tmp_path, smuggle)
    assert bytes(raw.received) == b"", "the upstream got it"
    assert answer.startswith("HTTP/1.1 400 "), answer
    assert "Content-Length and Transfer-Encoding" in answer
    assert answer.count("HTTP/1.1") == 1, "the connection closed after the refusal"
    assert _proxy_lines(raw_env) == []


def test_hop_by_hop_headers_stop_at_the_proxy(raw_env, raw, testsrv, tmp_path):
    hop = (
        f"GET /hop HTTP/1.1\r\nHost: {raw.host}\r\nConnection: close, X-Hop\r\n"
        "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Checksum\r\n"
        "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Foo: 1\r\nX-Hop: 1\r\nX-Kept: 1\r\n\r\n"
    ).encode()
    absolute = (
        f"GET https://{raw.host}/abs?q=1 HTTP/1.1\r\nHost: {raw.host}\r\nConnection: close\r\n\r\n"
    ).encode()
    answers = _send(raw_env, raw, tmp_path, hop, absolute)
    assert all(a.startswith("HTTP/1.1 200 ") for a in answers), answers
    (line, fields), (abs_line, _) = raw.heads()
    assert line == b"GET /hop HTTP/1.1"
    assert set(fields) == {b"host", b"x-kept", b"authorization"}, fields
    assert fields[b"authorization"].removeprefix(b"Bearer ").decode() in testsrv.state.access
    assert abs_line == b"GET /abs?q=1 HTTP/1.1", "the upstream gets the origin form"


@pytest.mark.parametrize(
    "head,status",
    [
        ("GET /x HTTP/1.1\r\nHost: evil.example\r\n", 421),
        ("GET /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\n", 421),
        ("GET https://evil.example/x HTTP/1.1\r\nHost: {host}\r\n", 421),
        ("GET /x HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n", 400),
    ],
)
def test_a_request_for_another_host_is_refused(raw_env, raw, tmp_path, head, status):
    """The credential goes to the host the child tunnelled to, on a request for that host."""
    data = (head.format(host=raw.host) + "Connection: close\r\n\r\n").encode()
    (answer,) = _send(raw_env, raw, tmp_path, data)
    assert answer.startswith(f"HTTP/1.1 {status} "), answer
    assert bytes(raw.received) == b""
    assert _proxy_lines(raw_env) == []


def test_the_audit_line_names_the_tunnel_and_the_answer(raw_env, raw, tmp_path):
    data = f"GET /v1/a?key=x HTTP/1.1\r\nHost: {raw.host}\r\nConnection: close\r\n\r\n"
    _send(raw_env, raw, tmp_path, data.encode())
    (line,) = _proxy_lines(raw_env)
    assert (line["host"], line["path"], line["status"]) == (raw.host, "/v1/a", 200), line
    assert "failed" not in line


@pytest.fixture
def untrusted(file_env, testsrv, install_provider, tmp_path):
    """testsrv's API is an HTTPS server whose CA nobody trusts."""
    server = ApiServer(tmp_path / "api")
    install_provider(testsrv.provider(hosts=[server.host]))
    assert run(["login", "testsrv"], file_env).returncode == 0
    yield server
    server.stop()


def test_a_request_that_never_got_out_is_logged_as_failed(file_env, untrusted, tmp_path):
    """An upstream certificate nobody trusts was a bare 502 inside the child, and the log
    said the request was signed as if it had gone out."""
    curl = require("curl")
    each = "-o /dev/null -w '%{http_code}\\n'"
    script = f"{curl} -s {each} {untrusted.url}/a {each} {untrusted.url}/b"
    out = run(["run", "--proxy", "testsrv", "--", "sh", "-c", script], file_env)
    assert out.stdout.split() == ["502", "502"], out
    assert untrusted.seen == []
    lines = _proxy_lines(file_env)
    assert [d["path"] for d in lines] == ["/a", "/b"]
    assert all("failed TLS verification" in d.get("failed", "") for d in lines), lines
    assert not any("status" in d for d in lines)
    said = [s for s in out.stderr.splitlines() if "failed TLS verification" in s]
    assert len(said) == 1, out.stderr
    assert said[0].startswith("authsome: ") and "SSL_CERT_FILE" in said[0]


def test_a_failing_token_endpoint_is_not_asked_once_a_request(file_env, testsrv, install_provider,
                                                               tmp_path):  # fmt: skip
    """A due token the endpoint (503) cannot refresh: one refresh per proxied request and a
    warning each, before; a few refreshes and one warning, after."""
    api = ApiServer(tmp_path / "api")
    try:
        install_provider(testsrv.provider(hosts=[api.host]))
        env = {**file_env, "SSL_CERT_FILE": str(api.ca)}
        testsrv.state.access_expires_in = 14  # due after 7 s, half its life; 7 s left then
        assert run(["login", "testsrv"], env).returncode == 0
        due_at = time.time() + 7.2
        testsrv.state.refresh_failure = (503, "text/html", "<html>down</html>")
        time.sleep(max(0.0, due_at - time.time()))
        curl = require("curl")
        script = f"{curl} -sS -o /dev/null '{api.url}/[1-30]'"
        out = run(["run", "--proxy", "testsrv", "--", "sh", "-c", script], env)
        assert out.returncode == 0, out.stderr
        assert len(api.seen) == 30 and len(set(api.seen)) == 1
        warned = [s for s in out.stderr.splitlines() if "could not refresh testsrv" in s]
        assert testsrv.state.count("/token", "refresh_token") <= 3
        assert len(warned) == 1, out.stderr
    finally:
        api.stop()


def test_the_backoff_ends_with_the_token(file_env):
    """A new token starts a new episode: its first failure warns again."""
    from authsome.errors import NetworkError
    from authsome.services import refreshfail

    lock, error = Path(file_env["AUTHSOME_HOME"]) / "x.lock", NetworkError("down")
    assert refreshfail.note(lock, 100.0, error, 110.0)
    assert refreshfail.backing_off(lock, 101.0, 110.0) is error
    assert not refreshfail.note(lock, 103.0, error, 110.0)
    assert refreshfail.backing_off(lock, 200.0, 110.0) is None
    assert refreshfail.backing_off(lock, 101.0, 500.0) is None
    assert refreshfail.note(lock, 300.0, error, 500.0)
