"""oauth/loopback.py: the login's local server answers the request that ends the login whole."""

import threading
import time
import urllib.request

from authsome.oauth import loopback


class _EndsTheLogin(loopback.Handler):
    """Ends the login, then takes a while over its page, as a loaded machine may."""

    written = threading.Event()

    def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's name
        self.server.outcome.finish("done")
        time.sleep(0.5)
        self.send_html(200, "the whole page")
        type(self).written.set()


def test_the_page_of_the_request_that_ends_the_login_is_written_before_the_server_goes():
    """The command exits once the login has ended: its daemon threads die with it, and a page
    half written was a browser's (or a test's) "peer closed connection" error."""
    server = loopback.Server(_EndsTheLogin)
    got = {}

    def fetch():
        with urllib.request.urlopen(f"http://{server.authority}/", timeout=30) as answer:  # noqa: S310
            got["page"] = answer.read()

    client = threading.Thread(target=fetch)
    with loopback.serving(server):
        client.start()
        assert server.outcome.done.wait(30)
    assert _EndsTheLogin.written.is_set()  # before serving() let the command go on
    client.join(30)
    assert got["page"] == b"the whole page"


class _Stalls(loopback.Handler):
    def do_GET(self):  # noqa: N802
        self.server.outcome.finish("done")
        time.sleep(30)  # a client (or a handler) that never finishes


def test_a_stalled_answer_holds_the_command_up_two_seconds_at_most():
    server = loopback.Server(_Stalls)
    client = threading.Thread(
        target=lambda: urllib.request.urlopen(f"http://{server.authority}/", timeout=60),  # noqa: S310
        daemon=True,
    )
    with loopback.serving(server):
        client.start()
        assert server.outcome.done.wait(30)
        ended = time.monotonic()
    assert time.monotonic() - ended < 10  # settle's 2 s bound, with room for load
