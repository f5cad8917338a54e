"""Server-sent events (the WHATWG event stream format), read line by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MAX_EVENT = 1 << 22  # one event's data: a longer one is a hostile or broken peer


class TooLarge(ValueError):
    """An event or an answer over the size cap."""


class Events:
    """The events of `lines` (without their line endings), with what a reconnection needs:
    the last event ID seen (a priming event's too) and the server's `retry:` in ms."""

    def __init__(self, lines: Iterable[str], cap: int = MAX_EVENT):
        self.lines, self.cap = lines, cap
        self.last_id: str | None = None
        self.retry: int | None = None

    def __iter__(self) -> Iterator[dict]:
        """Each event as {"event", "data", "id"}.

        An event ends at a blank line; `data` lines join with newlines; comments (":") and
        events with no data (a priming event, say) are skipped, as is an event the stream
        ended before finishing."""
        data: list[str] = []
        event, size = "message", 0
        for line in self.lines:
            if not line:
                if data and data != [""]:  # empty data is no event (the spec's dispatch rule)
                    yield {"event": event, "data": "\n".join(data), "id": self.last_id}
                data, event, size = [], "message", 0
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                size += len(value) + 1
                if size > self.cap:
                    raise TooLarge("an event over the size cap")
                data.append(value)
            elif field == "event":
                event = value or "message"
            elif field == "id" and "\0" not in value:
                self.last_id = value
            elif field == "retry" and value.isascii() and value.isdigit():
                self.retry = int(value)


def events(lines: Iterable[str]) -> Iterator[dict]:
    """The events of `lines`, as Events yields them."""
    return iter(Events(lines))
