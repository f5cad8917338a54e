"""oauth/loopback.py: the login's local server answers the request that ends the login whole."""

import socket
import threading
import time
import urllib.request

from authsome.oauth import loopback


def _ending(written: threading.Event, then: float):
    class EndsTheLogin(loopback.Handler):
        """Ends the login, then takes `then` seconds over its page, as a loaded machine may."""

        def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's name
            self.server.outcome.finish("done")
            time.sleep(then)
            self.send_html(200, "the whole page")
            written.set()

    return EndsTheLogin


def _fetch(server, got: dict) -> threading.Thread:
    def fetch():
        try:
            with urllib.request.urlopen(f"http://{server.authority}/", timeout=60) as answer:  # noqa: S310 - our own server
                got["page"] = answer.read()
        except OSError as e:
            got["error"] = e

    return threading.Thread(target=fetch, daemon=True)


def test_the_page_of_the_request_that_ends_the_login_is_written_before_the_server_goes():
    """The command exits once the login has ended: its daemon threads die with it, and a page
    half written was a browser's (or a test's) "peer closed connection" error."""
    written = threading.Event()
    server = loopback.Server(_ending(written, 0.2))
    got: dict = {}
    client = _fetch(server, got)
    with loopback.serving(server):
        client.start()
        assert server.outcome.done.wait(30)
    assert written.is_set()  # before serving() let the command go on
    client.join(30)
    assert got == {"page": b"the whole page"}


def test_a_connection_that_sends_no_request_is_not_waited_for():
    """A browser opens spare connections; one that never sends a request is owed nothing."""
    written = threading.Event()
    server = loopback.Server(_ending(written, 0))
    got: dict = {}
    with loopback.serving(server), socket.create_connection(("127.0.0.1", server.port)):
        client = _fetch(server, got)
        client.start()
        assert server.outcome.done.wait(30) and written.wait(30)
        client.join(30)
        assert got == {"page": b"the whole page"}
        server.settle(30)  # all but the idle connection is answered and closed by now
        assert not server._answering  # the idle connection was never counted


def test_a_stalled_answer_holds_the_command_up_two_seconds_at_most():
    stalled = threading.Event()
    server = loopback.Server(_ending(stalled, 30))  # a handler (or client) that never finishes
    with loopback.serving(server):
        _fetch(server, {}).start()
        assert server.outcome.done.wait(30)
        ended = time.monotonic()
    assert time.monotonic() - ended < 10  # settle's 2 s bound, with room for load
    assert not stalled.is_set()
