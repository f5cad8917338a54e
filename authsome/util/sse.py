"""Server-sent events (the WHATWG event stream format), read line by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def events(lines: Iterable[str]) -> Iterator[dict]:
    """Each event of `lines` (without their line endings) as {"event", "data", "id"}.

    An event ends at a blank line; `data` lines join with newlines; comments (":") and
    events with no data (a priming event, say) are skipped, as is an event the stream
    ended before finishing."""
    data: list[str] = []
    event, last_id = "message", None
    for line in lines:
        if not line:
            if data and data != [""]:  # empty data is no event (the spec's dispatch rule)
                yield {"event": event, "data": "\n".join(data), "id": last_id}
            data, event = [], "message"
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value or "message"
        elif field == "id" and "\0" not in value:
            last_id = value
