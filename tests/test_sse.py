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


def test_a_priming_event_id_and_retry_are_kept_for_a_reconnection():
    from authsome.util.sse import Events

    stream = Events(["id: ev-3", "retry: 250", "data:", "", "retry: soon", "retry: ３", ""])
    assert list(stream) == []  # nothing to relay
    assert stream.last_id == "ev-3" and stream.retry == 250  # not-ASCII-digits: ignored


def test_an_event_over_the_cap_is_refused_however_it_is_split():
    import pytest

    from authsome.util.sse import Events, TooLarge

    with pytest.raises(TooLarge):
        list(Events(["data: " + "x" * 60] * 20, cap=1000))  # no blank line: one endless event
