"""Building dead letters (ringrift.events.deadletter), no broker needed.

Checks: a letter keeps the original key, value, partition and headers (minus old ``dlq.``
context) and adds the context, event id and type included; a message and trace far over
the size limit are cut by bytes with a marker, on a character boundary, so that the whole
letter fits; a value that alone fills the limit gives a minimal letter without it.
"""

from __future__ import annotations

from ringrift.errors import PoisonMessage
from ringrift.events import deadletter
from ringrift.events.deadletter import DeadLetterWriter, SourceRecord
from ringrift.events.envelope import encode, new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted

LIMIT = 100_000


def _writer() -> DeadLetterWriter:
    return DeadLetterWriter(service="exporter", group="exporter", service_version="9.9",
                            max_bytes=LIMIT)


def _source(value: bytes) -> SourceRecord:
    return SourceRecord("games", 3, 17, b"square8_2p", value,
                        (("trace-id", b"abc"), (deadletter.ATTEMPTS, b"7")), 1_700_000_000_000)


def _size(record) -> int:
    return len(record.key or b"") + len(record.value or b"") + sum(
        len(k) + len(v) for k, v in record.headers)


def test_a_letter_carries_the_record_and_its_context() -> None:
    event = new_event(GameCompleted(game_id="g"), config_key="square8_2p", producer="selfplay")
    letter = _writer().letter(_source(encode(event)), PoisonMessage("illegal move 17"), 1)
    headers = dict(letter.headers)
    assert (letter.topic, letter.partition, letter.key) == ("games.dlq", 3, b"square8_2p")
    assert letter.value == encode(event) and letter.timestamp_ms == 1_700_000_000_000
    assert headers["trace-id"] == b"abc" and headers[deadletter.ATTEMPTS] == b"1"
    assert headers[deadletter.EVENT_ID] == event.event_id.encode()
    assert headers[deadletter.EVENT_TYPE] == b"ringrift.selfplay.v1.GameCompleted"
    assert headers[deadletter.ERROR_CLASS] == b"ringrift.errors.PoisonMessage"
    assert headers[deadletter.OFFSET] == b"17" and headers[deadletter.SERVICE_VERSION] == b"9.9"
    assert headers[deadletter.HOST]


def test_message_and_trace_are_cut_to_fit() -> None:
    try:
        raise PoisonMessage("é" * 200_000)  # two bytes a character: cuts fall inside some
    except PoisonMessage as raised:
        error = raised
    letter = _writer().letter(_source(b"v" * 1000), error, 1)
    headers = dict(letter.headers)
    message = headers[deadletter.ERROR_MESSAGE].decode()  # still valid UTF-8
    assert message.startswith("éé") and message.endswith("cut to fit the record size limit]")
    trace = headers[deadletter.STACK_TRACE].decode()  # the tail: where it was raised
    assert trace.startswith("[... ") and trace.endswith("é\n")
    assert _size(letter) < LIMIT


def test_a_value_that_fills_the_limit_gives_a_minimal_letter() -> None:
    letter = _writer().letter(_source(b"v" * (LIMIT - 100)), PoisonMessage("too big"), 1)
    headers = dict(letter.headers)
    assert letter.value is None
    assert headers[deadletter.VALUE_DROPPED] == str(LIMIT - 100).encode()
    assert headers[deadletter.ERROR_MESSAGE] == b"too big"
    assert headers[deadletter.OFFSET] == b"17" and "trace-id" not in headers
    assert _size(letter) < LIMIT


def test_a_letter_always_says_why_or_is_minimal() -> None:
    # Room for the value, not for a useful message: the value goes, the reason stays.
    letter = _writer().letter(_source(b"v" * (LIMIT - 700)), PoisonMessage("m" * 5000), 1)
    assert letter.value is None
    assert dict(letter.headers)[deadletter.ERROR_MESSAGE].startswith(b"mmm")
