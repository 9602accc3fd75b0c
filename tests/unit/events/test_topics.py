"""The topic registry is complete and consistent.

Checks: names follow ``ringrift.<domain>.<event>.v<N>`` with N the schema version; names
and event types are unique; every topic has producers and consumers, all of them known
services; every event message in the schemas travels on a topic; compacted topics keep
their records, streams have a retention; dead-letter names.
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from ringrift.events.gen.model.v1 import model_pb2
from ringrift.events.gen.ops.v1 import ops_pb2
from ringrift.events.gen.selfplay.v1 import selfplay_pb2
from ringrift.events.topics import SERVICES, TOPICS, Cleanup, message_types, topic

EVENT_MODULES = (selfplay_pb2, model_pb2, ops_pb2)
NAME = re.compile(r"^ringrift\.[a-z]+\.[a-z-]+\.v(?P<version>\d+)$")


def test_names_follow_the_convention_and_carry_the_schema_version() -> None:
    for spec in TOPICS:
        match = NAME.match(spec.name)
        assert match, spec.name
        assert int(match["version"]) == spec.schema_version
        assert spec.event_type.split(".")[2] == f"v{spec.schema_version}"


def test_names_and_event_types_are_unique() -> None:
    assert len({spec.name for spec in TOPICS}) == len(TOPICS)
    assert len(message_types()) == len(TOPICS)


def test_every_event_type_has_a_producer_and_a_consumer() -> None:
    for spec in TOPICS:
        assert spec.producers, f"{spec.event_type} on {spec.name} has no producer"
        assert spec.consumers, f"{spec.event_type} on {spec.name} has no consumer"
        assert set(spec.producers) | set(spec.consumers) <= SERVICES, spec.name


def _event_messages() -> set[str]:
    """Top-level messages that no other message uses as a field: the events."""
    messages: dict[str, Descriptor] = {}
    for module in EVENT_MODULES:
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            messages[descriptor.full_name] = descriptor
    used = {field.message_type.full_name for d in messages.values() for field in d.fields
            if field.type == FieldDescriptor.TYPE_MESSAGE}
    return set(messages) - used


def test_every_event_message_is_registered() -> None:
    unregistered = _event_messages() - set(message_types())
    assert not unregistered, f"event messages with no topic (so no producer/consumer): " \
                             f"{sorted(unregistered)}"
    assert len(_event_messages()) >= 9


def test_cleanup_policies() -> None:
    for spec in TOPICS:
        if spec.cleanup is Cleanup.COMPACT:
            assert spec.retention_ms is None
            assert spec.broker_config() == {"cleanup.policy": "compact"}
        else:
            assert spec.retention_ms and spec.retention_ms > 0
    assert topic("ringrift.model.current.v1").cleanup is Cleanup.COMPACT
    assert topic("ringrift.model.current.v1").key == "config"


def test_dead_letter_names() -> None:
    assert topic("ringrift.export.shard-written.v1").dlq_name == \
        "ringrift.export.shard-written.v1.dlq"
