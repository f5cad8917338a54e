"""Bad peers (#26 item 8): a server that answers non-JSON, an HTML login page, an endless SSE
stream, a message over the size cap, a connection dropped mid-stream, an old-transport
endpoint on another origin. Each: a JSON-RPC error to the client, one line on stderr, no hang
past the deadline, exit 0, and the token sent to the resource's origin only."""

import json
import shutil
import time

import pytest
from clitools import run
from mcp_peers import Bridge, Peer
from oauth_server import OAuthServer

UPSTREAM = -32002
BIG = 5 << 20  # over the 4 MiB cap


def json_garbage(h):
    h.reply(200, "application/json", b"{not json")


def login_page(h):
    h.reply(200, "text/html; charset=utf-8", b"<html><form action=/login>Sign in</form></html>")


def huge_json(h):
    h.reply(200, "application/json", b'{"jsonrpc":"2.0","id":1,"result":"' + b"x" * BIG + b'"}')


def endless(h):
    h.start_stream()
    while True:  # keep-alives and events that are no message, never the answer
        h.write(": keep-alive\n\nevent: ping\ndata: {}\n\n")
        time.sleep(0.05)


def huge_event(h):
    h.start_stream()
    for _ in range(BIG // 1000):
        h.write("data: " + "x" * 1000 + "\n")


def cut(h):
    h.start_stream()
    h.write('data: {"jsonrpc": "2.0", "id": 1, "res')


def cut_with_an_id(h):
    h.start_stream()
    h.write("id: ev-1\nretry: 10\ndata:\n\n")


CASES = {
    "non-JSON": ({"POST": json_garbage}, "answered with something that is not JSON"),
    "login page": ({"POST": login_page}, "answered an HTML page (a login page?), not JSON"),
    "JSON over the cap": ({"POST": huge_json}, "sent an answer over 4 MiB"),
    "endless stream": ({"POST": endless}, "no answer within the HTTP deadline"),
    "event over the cap": ({"POST": huge_event}, "sent a message over 4 MiB"),
    "dropped mid-stream": ({"POST": cut}, "closed the stream before answering"),
    "dropped, resumed, dropped": (
        {"POST": cut_with_an_id, "GET": cut_with_an_id},
        "closed the stream before answering",
    ),
}


@pytest.fixture
def login_to(oauth_server, install_provider, file_env):
    def login(peer: Peer) -> dict:
        install_provider(oauth_server.provider(oauth={"resource": peer.url}))
        out = run(["login", "testsrv"], file_env)
        assert out.returncode == 0, out.stderr
        return {**file_env, "AUTHSOME_HTTP_TIMEOUT": "1"}

    return login


def _told(env, peer, oauth_server, says: str):
    """Initialize through the bridge: the error, the one stderr line, exit 0, tokens kept."""
    bridge = Bridge(env)
    try:
        answer = bridge.ask("initialize")
        code, rest, err = bridge.finish()
    finally:
        bridge.proc.kill()  # one that hangs is a failure, not a process left behind
    assert answer["id"] == 1 and answer["error"]["code"] == UPSTREAM
    assert says in answer["error"]["message"]
    assert code == 0 and rest == []
    assert len(err) == 1 and err[0].startswith("authsome: ") and says in err[0], err
    for _, _, headers in peer.requests:
        sent = headers.get("Authorization", "Bearer -").removeprefix("Bearer ")
        assert sent == "-" or sent in oauth_server.state.access


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_peer_is_an_error_to_the_client_and_one_line(case, login_to, oauth_server):
    answers, says = CASES[case]
    peer = Peer(**answers)
    try:
        _told(login_to(peer), peer, oauth_server, says)
        if case == "dropped, resumed, dropped":
            resumed = [h for m, _, h in peer.requests if m == "GET"]
            assert 1 <= len(resumed) <= 5  # bounded: the stream brought nothing new
            assert all(h["Last-Event-ID"] == "ev-1" for h in resumed)
    finally:
        peer.stop()


def test_an_old_transport_endpoint_on_another_origin_gets_no_token(login_to, oauth_server):
    elsewhere = Peer(POST=lambda h: h.reply(202, "text/plain", b""))

    def stream(h):
        h.start_stream()
        h.write(f"event: endpoint\ndata: {elsewhere.origin}/messages?s=1\n\n")
        time.sleep(30)

    peer = Peer(GET=stream)  # a POST of initialize: 405, so the old transport is tried
    try:
        _told(login_to(peer), peer, oauth_server, "named an endpoint elsewhere")
        assert elsewhere.requests == []
    finally:
        peer.stop()
        elsewhere.stop()


def test_an_old_transport_stream_without_its_endpoint_ends_at_the_deadline(login_to, oauth_server):
    def stream(h):
        h.start_stream()
        while True:
            h.write(": keep-alive\n\n")
            time.sleep(0.05)

    peer = Peer(GET=stream)
    try:
        _told(login_to(peer), peer, oauth_server, "no answer within the HTTP deadline")
    finally:
        peer.stop()


@pytest.mark.parametrize("moved", ["http://as.example", "another"])
def test_resource_metadata_naming_another_authorization_server_gets_no_refresh_token(
    moved, oauth_server, install_provider, file_env, authsome_home
):
    """Logged in through the server's metadata (RFC 9728), which later names a plain-http or
    another authorization server: the refresh a 401 asks for is refused, the client told."""
    named = [oauth_server.url]

    def metadata(h):
        if h.path != "/.well-known/oauth-protected-resource/mcp":
            return h.reply(404, "application/json", b"{}")
        body = {"resource": peer.url, "authorization_servers": named}
        h.reply(200, "application/json", json.dumps(body).encode())

    def refuse(h):
        h.send_response(401)
        h.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        h.send_header("Content-Length", "0")
        h.end_headers()

    peer, other = Peer(GET=metadata, POST=refuse), OAuthServer()
    provider = oauth_server.provider(oauth={"resource": peer.url})
    for found in (
        "authorization_url",
        "token_url",
        "device_authorization_url",
        "revocation_url",
        "supports_device_code",
    ):
        del provider["oauth"][found]  # all from the metadata
    install_provider(provider)
    try:
        out = run(["login", "testsrv"], file_env)
        assert out.returncode == 0, out.stderr
        named[0] = other.url if moved == "another" else moved
        shutil.rmtree(authsome_home / "cache" / "discovery")  # as when the day's cache ends
        says = "moved from" if moved == "another" else "authorization_servers 'http://as.example'"
        _told({**file_env, "AUTHSOME_HTTP_TIMEOUT": "5"}, peer, oauth_server, says)
        assert not [path for path, _ in other.state.requests if path == "/token"]
        assert oauth_server.state.count("/token", "refresh_token") == 0
    finally:
        peer.stop()
        other.stop()


@pytest.mark.parametrize(
    ("endpoint", "same"),
    [
        ("http://127.0.0.1:8000/messages?s=1", True),
        ("http://127.0.0.1:8001/messages", False),  # another port
        ("https://127.0.0.1:8000/messages", False),  # another scheme
        ("http://localhost:8000/messages", False),  # another name for the host is another origin
        ("http://127.0.0.1:8000@evil.example/messages", False),  # userinfo, then the real host
        ("https://mcp.example/messages", False),
    ],
)
def test_an_old_transport_endpoint_must_be_on_the_servers_origin(endpoint, same):
    from authsome.services.mcp_sse import same_origin

    assert same_origin(endpoint, "http://127.0.0.1:8000/sse") is same
    assert same_origin("https://mcp.example/x", "https://mcp.example:443/sse")


def test_an_answer_closed_twice_gives_its_connection_back_once():
    """Else two requests would share one connection (http.client's ResponseNotReady)."""
    from authsome.util.httplines import Pool

    peer = Peer(POST=lambda h: h.reply(200, "application/json", b"{}"))
    peer.RequestHandlerClass = type("KeepAlive", (peer.RequestHandlerClass,), {})
    peer.RequestHandlerClass.protocol_version = "HTTP/1.1"  # kept alive: the pool keeps it
    pool = Pool(peer.url, timeout=5)
    try:
        answer = pool.exchange("POST", {"Content-Type": "application/json"}, b"{}")
        assert answer.read() == b"{}"
        answer.close()
        answer.close()
        assert len(pool.idle) == 1
    finally:
        pool.close()
        peer.stop()
