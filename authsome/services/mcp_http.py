"""Streamable HTTP (MCP 2025-11-25), the bridge's side: each client message POSTed, its JSON or
SSE answer relayed; the GET stream of the server's own messages; an SSE stream that drops
resumed with Last-Event-ID ("Resumability and Redelivery"); DELETE on leaving.
"""

from __future__ import annotations

import threading
import time

from authsome.util.httplines import describe
from authsome.util.sse import MAX_EVENT, Events, TooLarge

RETRIES = 5  # reconnections of one stream in a row that bring nothing, before giving up
RETRY_MS = 1000  # the wait before reconnecting when the server named none (`retry:`)
MAX_RETRY_MS = 60_000  # a server's `retry:` is honoured up to this
SSE = "text/event-stream"
MAX_MIB = MAX_EVENT >> 20
# The old HTTP+SSE transport (2024-11-05) answers a POST of initialize with one of these.
NOT_STREAMABLE = (400, 404, 405)


class Ended(Exception):
    """The stream ended, or the bridge is leaving."""


class Streamable:
    """The transport of one bridge: its POSTs, its GET stream, the streams' resumption."""

    def __init__(self, bridge):
        self.b = bridge
        self.leaving = threading.Event()
        self.listening: list = []  # the GET stream's answer, to cut it short on leaving

    def send(self, line: str, message: dict) -> None:
        answer = self.b.exchange("POST", line.encode())
        if message.get("method") == "initialize" and answer.status_code in NOT_STREAMABLE:
            answer.close()
            return self.fall_back(line, message)
        try:
            self.relay(answer, message)
        finally:
            answer.close()
        if message.get("method") == "notifications/initialized" and answer.status_code < 300:
            threading.Thread(target=self.listen, daemon=True, name="mcp-get-stream").start()

    def fall_back(self, line: str, message: dict) -> None:
        """The spec's backwards compatibility: GET the URL, expecting an `endpoint` event."""
        from authsome.services.mcp_sse import Legacy

        legacy = Legacy(self.b)
        legacy.connect(message)
        if legacy.endpoint is not None:
            self.b.transport = legacy
            legacy.send(line, message)

    def relay(self, answer, message: dict) -> None:
        """The server's answer to `message`, onto stdout message by message."""
        b, status = self.b, answer.status_code
        kind = answer.headers.get("content-type", "")
        if status == 202:
            return None
        if status == 401:
            return b.fail(message, f"{b.name} refused its token. {b.login_fix()}")
        if status == 403:
            from authsome.services.mcpscope import insufficient_scope

            if text := insufficient_scope(b, answer):
                return b.fail(message, text)
        if status == 404 and b.session:
            return b.fail(message, f"{b.url} ended the session; restart the MCP client")
        if status >= 300:
            return b.fail(message, f"{b.url} answered HTTP {status}")
        if kind.startswith(SSE):
            return self.stream(answer, message)
        if not kind.startswith("application/json"):
            what = "an HTML page (a login page?)" if "html" in kind else kind or "no content type"
            return b.fail(message, f"{b.url} answered {what}, not JSON")
        try:
            text = answer.read().decode("utf-8", "replace")
        except TooLarge:
            return b.fail(message, f"{b.url} sent an answer over {MAX_MIB} MiB")
        if b.answer(text, skipped=False) is None:
            b.fail(message, f"{b.url} answered with something that is not JSON")

    def stream(self, answer, message: dict) -> None:
        """Relay an SSE answer; one that drops before the answer is resumed with Last-Event-ID,
        as long as each reconnection brings something and the stream is not quiet too long."""
        want = message.get("id") if "method" in message else None
        events = Events(())
        quiet = [time.monotonic() + self.b.quiet]  # when the stream has been quiet too long
        tries = 0
        while True:
            seen = events.last_id
            try:
                events.lines = self.watched(answer.iter_lines(self.b.quiet), quiet)
                if self.drain(events, want, quiet) or want is None:
                    return None
                problem = "closed the stream before answering"
            except TooLarge:
                return self.b.fail(message, f"{self.b.url} sent a message over {MAX_MIB} MiB")
            except Exception as e:  # noqa: BLE001 - a dropped or hostile stream: resumed or told
                problem = describe(e)
            finally:
                answer.close()
            tries = 0 if events.last_id != seen else tries + 1
            answer = self.reconnect(events, tries, quiet)
            if answer is None:
                return self.b.fail(message, f"{self.b.url}: {problem}")

    def drain(self, events: Events, want, quiet: list) -> bool:
        """Relay the messages of `events`; True once the answer to the request `want` came."""
        for event in events:
            if event["event"] != "message":
                continue
            got = self.b.answer(event["data"])
            quiet[0] = time.monotonic() + self.b.quiet
            if isinstance(got, dict) and "method" not in got and got.get("id") == want:
                return want is not None
        return False

    def watched(self, lines, quiet: list):
        """`lines`, ended when no message came for too long (keep-alives do not count)."""
        for line in lines:
            if time.monotonic() > quiet[0] or self.leaving.is_set():
                raise TimeoutError
            yield line

    def reconnect(self, events: Events, tries: int, quiet: list):
        """The stream again from its last event (a GET with Last-Event-ID), or None when it
        cannot be resumed: no event ID, too many tries, quiet too long, or leaving."""
        if events.last_id is None or tries >= RETRIES:
            return None
        wait = min(events.retry if events.retry is not None else RETRY_MS, MAX_RETRY_MS) / 1000
        if self.leaving.wait(wait) or time.monotonic() > quiet[0]:
            return None
        try:
            answer = self.b.exchange("GET", None, Accept=SSE, **{"Last-Event-ID": events.last_id})
        except Exception:  # noqa: BLE001 - counted as a try that brought nothing
            return self.reconnect(events, tries + 1, quiet)
        if answer.status_code == 200 and answer.headers.get("content-type", "").startswith(SSE):
            return answer
        answer.close()
        return None

    def listen(self) -> None:
        """The GET stream: the server's own requests and notifications, relayed as they come.
        405 means the server offers none; the stream is opened again when it ends."""
        events, tries = Events(()), 0
        while not self.leaving.is_set() and tries < RETRIES:
            extra = {} if events.last_id is None else {"Last-Event-ID": events.last_id}
            try:
                answer = self.b.exchange("GET", None, Accept=SSE, **extra)
            except Exception:  # noqa: BLE001 - the server away a moment: tried again
                answer = None
            if answer is not None and 400 <= answer.status_code < 500:
                return answer.close()  # 405 says it offers none; any refusal, that it is not ours
            tries = self.listened(answer, events, tries)
            wait = min(events.retry if events.retry is not None else RETRY_MS, MAX_RETRY_MS)
            self.leaving.wait(wait / 1000 * (1 if tries <= 1 else 2 ** min(tries, 5)))
        if not self.leaving.is_set():
            self.b.say(f"authsome: {self.b.url} stopped sending its own messages (the GET stream)")

    def listened(self, answer, events: Events, tries: int) -> int:
        """Relay one connection of the GET stream; the tries in a row that brought nothing."""
        if answer is None:
            return tries + 1
        kind = answer.headers.get("content-type", "")
        if answer.status_code != 200 or not kind.startswith(SSE):
            answer.close()
            return tries + 1
        seen, brought, self.listening = events.last_id, [], [answer]
        try:
            events.lines = answer.iter_lines(self.b.quiet)
            for event in events:
                if event["event"] == "message" and self.b.answer(event["data"]) is not None:
                    brought.append(1)
        except TimeoutError:
            return tries  # quiet a long while: a server with nothing to say, not a failure
        except Exception:  # noqa: BLE001, S110 - dropped: reconnected
            pass
        finally:
            self.listening = []
            answer.close()
        return 0 if brought or events.last_id != seen else tries + 1

    def close(self) -> None:
        """Leaving: the GET stream cut, then the session ended at the server (DELETE)."""
        self.leaving.set()
        for answer in self.listening:
            answer.abort()
        if self.b.session is None:
            return
        import contextlib

        # If this fails, the server times the session out anyway.
        with contextlib.suppress(Exception):
            self.b.exchange("DELETE").close()
