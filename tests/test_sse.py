"""The SSE framing the MCP bridge reads: events end at blank lines, whatever the chunking."""

from authsome.util.sse import events


def test_events_join_data_lines_skip_comments_and_unfinished_events():
    lines = [
        ": keep-alive",
        "id: 1",
        "data:",  # a priming event with empty data: one data line, empty
        "",
        "event: message",
        'data: {"a":',
        "data:1}",
        "",
        "id: 7",
        'data: {"b": 2}',
        "",
        'data: {"cut": ',  # the stream ended mid-event: dropped
    ]
    got = list(events(lines))
    assert [e["data"] for e in got] == ['{"a":\n1}', '{"b": 2}']
    assert [e["id"] for e in got] == ["1", "7"]
    assert all(e["event"] == "message" for e in got)
