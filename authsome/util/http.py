"""The one HTTP client authsome uses: timeouts, a User-Agent, JSON, one-line errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from authsome import __version__
from authsome.errors import NetworkError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import httpx

USER_AGENT = f"authsome/{__version__} (+https://authsome.ai)"
TIMEOUT_SECONDS = 15.0  # each connect or read
DEADLINE_SECONDS = 30.0  # the whole request: a server that drips bytes never trips a read timeout
MAX_BODY = 1 << 20  # no OAuth or metadata answer comes near this; a bigger one is hostile


def httpx_module():
    """httpx, imported without its command-line tool, and in authsome's own process without
    async libraries (new_client).

    Whenever rich and pygments are installed, `import httpx` imports its own command line
    (about 70 ms) as well: never authsome's to run. Hidden only while httpx is imported, so
    that nothing else in the process is told it is missing.
    """
    import sys

    if "httpx" in sys.modules:  # __import__ still waits for another thread still importing it
        return __import__("httpx")
    return _without(("httpx._main", *_async_libraries()), lambda: __import__("httpx"))


def new_client(timeout: float, connect: float, **options) -> httpx.Client:
    """An httpx.Client, built without the async libraries when authsome is the program.

    httpcore (imported by httpx before 0.28, by its first client since) imports trio and
    anyio for its async locks whenever they are installed: about 100 ms of every network
    command on a machine that has them (a system python with python3-trio, a shared venv).
    Every httpcore since 0.17 imports them guarded, and 0.16 only when an async lock is used.
    authsome's HTTP is all synchronous; but httpcore remembers their absence for the rest of
    the process, so they are kept out only when authsome is the process's program.
    """
    httpx = httpx_module()
    return _without(
        _async_libraries(),
        lambda: httpx.Client(timeout=httpx.Timeout(timeout, connect=connect), **options),
    )


def _async_libraries() -> tuple[str, ...]:
    from authsome import util

    return ("trio", "anyio") if util.OWN_PROCESS else ()


def _without(names: tuple[str, ...], fn):
    """fn(), during which importing any of `names` not yet imported raises ImportError."""
    import sys

    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # how import is told "missing"
    try:
        return fn()
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


class Http:
    """A lazily created httpx.Client; every failure is a NetworkError naming the host."""

    def __init__(self, transport=None, deadline: float = DEADLINE_SECONDS):
        self._client: httpx.Client | None = None
        self._transport = transport
        self.deadline = deadline

    @property
    def client(self):
        if self._client is None:
            self._client = new_client(
                TIMEOUT_SECONDS,
                5.0,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                follow_redirects=False,
                transport=self._transport,
            )
        return self._client

    def post_form(self, url: str, data: dict, auth: tuple[str, str] | None = None):
        """POST a form; returns (status, body as a dict). Non-JSON bodies are form-decoded."""
        return self._request("POST", url, data=data, auth=auth)

    def get_json(self, url: str):
        """GET a JSON document; returns (status, body as a dict)."""
        return self._request("GET", url)

    def post_json(self, url: str, payload: dict):
        """POST a JSON document (RFC 7591 registration); returns (status, body as a dict)."""
        return self._request("POST", url, json=payload)

    def challenge(self, url: str) -> str | None:
        """The WWW-Authenticate header when `url` answers 401 without credentials, else None."""
        return self._bounded(url, lambda: self._challenge(url))

    def _challenge(self, url: str) -> str | None:
        httpx = httpx_module()
        try:
            # Streamed and never read: an MCP endpoint may answer with an endless event stream.
            with self.client.stream("GET", url) as response:
                status, header = response.status_code, response.headers.get("WWW-Authenticate")
        except httpx.HTTPError as e:
            raise _network_error(url, e) from None
        return header if status == 401 else None

    def _request(self, method: str, url: str, **kwargs):
        return self._bounded(url, lambda: self._exchange(method, url, **kwargs))

    def _bounded(self, url: str, fn):
        from authsome.util.deadline import DeadlineExceeded, within

        try:
            return within(fn, self.deadline, "authsome-http")
        except DeadlineExceeded:
            host = urlsplit(url).hostname or url
            raise NetworkError(
                f"{host} did not answer within {self.deadline:g} s",
                "check your network connection and try again",
            ) from None

    def _exchange(self, method: str, url: str, **kwargs):
        httpx = httpx_module()
        try:
            with self.client.stream(method, url, **kwargs) as response:
                raw = bytearray()
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_BODY:
                        raise NetworkError(
                            f"{urlsplit(url).hostname} sent an answer larger than"
                            f" {MAX_BODY >> 20} MiB",
                            "try again later, or report it to the provider",
                        )
                return response.status_code, _body(bytes(raw))
        except httpx.HTTPError as e:
            raise _network_error(url, e) from None

    def leave(self) -> None:
        """Forget the client without closing it: its connections are another process's."""
        self._client = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _network_error(url: str, e: Exception) -> NetworkError:
    host = urlsplit(url).hostname or url
    return NetworkError(
        f"cannot reach {host}: {_reason(e).rstrip('.')}",
        "check your network connection and try again",
    )


def _reason(e: BaseException) -> str:
    from authsome.util.termtext import printable

    name = type(e).__name__
    text = printable(str(e).splitlines()[0]) if str(e) else ""
    return f"{name}: {text}"[:200] if text else name


def _body(raw: bytes) -> dict:
    """The answer as a dict: JSON, else form-encoded; {} for anything else (an HTML page)."""
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return dict(parse_qsl(text)) if "=" in text and "<" not in text else {}
    return data if isinstance(data, dict) else {"_raw": data}
