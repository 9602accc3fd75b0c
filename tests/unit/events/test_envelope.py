"""Wrapping and unwrapping events.

Checks: a round trip keeps every envelope field and the payload; follow-up events carry
the correlation id and derive their ids deterministically; each kind of bad input raises
its own PoisonMessage subclass with a message that says what is wrong.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ringrift.errors import PoisonMessage
from ringrift.events import envelope
from ringrift.events.errors import (
    MalformedEnvelope,
    SchemaVersionMismatch,
    UnexpectedEventType,
    UnknownEventType,
)
from ringrift.events.gen.events.v1.envelope_pb2 import Envelope
from ringrift.events.gen.model.v1.model_pb2 import CandidateReady
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted, ShardWritten
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN


def _game() -> envelope.Event[GameCompleted]:
    payload = GameCompleted(game_id="g1", config_key="square8_2p", num_moves=42)
    return envelope.new_event(payload, config_key="square8_2p", producer="selfplay")


def test_round_trip_keeps_every_field() -> None:
    event = _game()
    decoded = envelope.decode(envelope.encode(event), GAME_COMPLETED)
    assert decoded == event
    assert decoded.correlation_id == event.event_id
    assert decoded.event_type == "ringrift.selfplay.v1.GameCompleted"


def test_follow_up_is_deterministic_and_correlated() -> None:
    cause = _game()
    first = envelope.follow_up(cause, ShardWritten(shard_id="s"), producer="exporter")
    again = envelope.follow_up(cause, ShardWritten(shard_id="s"), producer="exporter")
    other = envelope.follow_up(cause, ShardWritten(shard_id="s"), producer="exporter",
                               name="second")
    assert first.event_id == again.event_id != other.event_id
    assert first.event_id != cause.event_id
    assert first.causation_id == cause.event_id
    assert first.correlation_id == cause.correlation_id
    assert first.config_key == "square8_2p"


def _raw(**fields: object) -> bytes:
    base = {"event_id": "e1", "event_type": "ringrift.selfplay.v1.GameCompleted",
                "schema_version": 1, "config_key": "square8_2p", "producer": "selfplay",
                "payload": GameCompleted(game_id="g").SerializeToString()}
    return Envelope(**(base | fields)).SerializeToString()


@pytest.mark.parametrize(("value", "error", "words"), [
    (b"", MalformedEnvelope, "no value"),
    (b"\xff\xff\xff not protobuf", MalformedEnvelope, "not a ringrift.events.v1.Envelope"),
    (_raw(event_id=""), MalformedEnvelope, "no event_id"),
    (_raw(event_type="ringrift.nope.v1.Nope"), UnknownEventType, "unknown event type"),
    (_raw(schema_version=2), SchemaVersionMismatch, "schema version 2"),
    (_raw(event_type="ringrift.model.v1.CandidateReady",
          payload=CandidateReady().SerializeToString()), UnexpectedEventType, "carries"),
    (_raw(payload=b"\xff\xff\xff"), MalformedEnvelope, "does not parse"),
])
def test_bad_input_raises_a_named_poison_error(value: bytes, error: type[PoisonMessage],
                                               words: str) -> None:
    with pytest.raises(error, match=words) as raised:
        envelope.decode(value, GAME_COMPLETED)
    assert isinstance(raised.value, PoisonMessage)


def test_topic_copy_with_another_name_still_checks_the_type() -> None:
    copy = replace(SHARD_WRITTEN, name="test.copy")
    with pytest.raises(UnexpectedEventType):
        envelope.decode(envelope.encode(_game()), copy)
