"""Wrap event payloads in the envelope and unwrap them again, checking what arrives.

An :class:`Event` is what handlers see: the envelope's fields plus the decoded payload
message. :func:`new_event` starts a piece of work (a fresh correlation id);
:func:`follow_up` makes the event that another one caused, with an id *derived* from
the cause's id, so that a handler re-run after a crash produces the very same event
ids and downstream consumers recognise the repeat. :func:`decode` raises a
:class:`~ringrift.errors.PoisonMessage` subclass for anything it cannot trust: bytes
that are no envelope, an unknown event type, a type the topic does not carry, or a
schema version this code does not read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message

from ringrift.events.errors import (
    MalformedEnvelope,
    SchemaVersionMismatch,
    UnexpectedEventType,
    UnknownEventType,
)
from ringrift.events.gen.events.v1.envelope_pb2 import Envelope
from ringrift.events.topics import TopicSpec, message_types

M = TypeVar("M", bound=Message)

# Namespace of derived event ids (uuid5): any fixed UUID works, it must never change.
_DERIVED_ID_NAMESPACE = uuid.UUID("6f1f7c55-2b8e-4a55-9d0e-5d3c1f0a9b21")
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Event(Generic[M]):
    """A decoded event: the envelope's fields and the payload message."""

    payload: M
    config_key: str
    producer: str
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str = ""
    causation_id: str = ""
    produced_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    schema_version: int = SCHEMA_VERSION

    @property
    def event_type(self) -> str:
        return str(self.payload.DESCRIPTOR.full_name)


def new_event(payload: M, *, config_key: str, producer: str,
              event_id: str | None = None) -> Event[M]:
    """An event that starts a piece of work: its correlation id is its own id."""
    event_id = event_id or str(uuid.uuid4())
    return Event(payload, config_key, producer, event_id=event_id, correlation_id=event_id)


def derive_event_id(cause_id: str, name: str = "") -> str:
    """The id of the event ``name`` caused by event ``cause_id``: the same on every re-run."""
    return str(uuid.uuid5(_DERIVED_ID_NAMESPACE, f"{cause_id}/{name}"))


def follow_up(cause: Event[Message], payload: M, *, producer: str, name: str = "",
              config_key: str | None = None) -> Event[M]:
    """The event that ``cause`` led to; ``name`` tells apart several outputs of one cause.

    The id is derived from the cause's id, the correlation id is carried over and the
    causation id is the cause's id.
    """
    return Event(payload, config_key or cause.config_key, producer,
                 event_id=derive_event_id(cause.event_id, name or payload.DESCRIPTOR.full_name),
                 correlation_id=cause.correlation_id or cause.event_id,
                 causation_id=cause.event_id)


def encode(event: Event[Message]) -> bytes:
    """The envelope bytes that go into a record's value."""
    envelope = Envelope(
        event_id=event.event_id, event_type=event.event_type,
        schema_version=event.schema_version, config_key=event.config_key,
        correlation_id=event.correlation_id, causation_id=event.causation_id,
        producer=event.producer, payload=event.payload.SerializeToString(),
    )
    envelope.produced_at.FromDatetime(event.produced_at)
    return envelope.SerializeToString()


def decode(value: bytes | None, topic: TopicSpec | None = None) -> Event[Message]:
    """Unwrap a record's value; with ``topic``, check it carries the topic's event type.

    Raises:
        MalformedEnvelope: the bytes are not an envelope, lack an id or type, or the
            payload does not parse as the named type.
        UnknownEventType: no registered topic carries the named type.
        UnexpectedEventType: the type is known but not the one ``topic`` carries.
        SchemaVersionMismatch: the envelope's schema version is not the one we read.
    """
    if not value:
        raise MalformedEnvelope("the record has no value; expected a ringrift.events.v1."
                                "Envelope")
    envelope = Envelope()
    try:
        envelope.ParseFromString(value)
    except DecodeError as error:
        raise MalformedEnvelope(f"the record's value is not a ringrift.events.v1.Envelope "
                                f"({len(value)} bytes): {error}") from error
    if not envelope.event_id or not envelope.event_type:
        raise MalformedEnvelope("the envelope has no event_id or no event_type; was it "
                                "written by ringrift.events.envelope.encode?")
    message_type = message_types().get(envelope.event_type)
    if message_type is None:
        raise UnknownEventType(f"unknown event type {envelope.event_type!r} (event "
                               f"{envelope.event_id}); the topic registry knows "
                               f"{', '.join(sorted(message_types()))}")
    expected_version = topic.schema_version if topic else SCHEMA_VERSION
    if envelope.schema_version != expected_version:
        raise SchemaVersionMismatch(
            f"event {envelope.event_id} of type {envelope.event_type} has schema version "
            f"{envelope.schema_version}; this consumer reads version {expected_version} only "
            "(a new schema version travels on a new topic version)"
        )
    if topic is not None and envelope.event_type != topic.event_type:
        raise UnexpectedEventType(f"topic {topic.name} carries {topic.event_type}, not "
                                  f"{envelope.event_type} (event {envelope.event_id})")
    payload = message_type()
    try:
        payload.ParseFromString(envelope.payload)
    except DecodeError as error:
        raise MalformedEnvelope(f"the payload of event {envelope.event_id} does not parse as "
                                f"{envelope.event_type}: {error}") from error
    return Event(payload, envelope.config_key, envelope.producer,
                 event_id=envelope.event_id, correlation_id=envelope.correlation_id,
                 causation_id=envelope.causation_id,
                 produced_at=envelope.produced_at.ToDatetime(tzinfo=UTC),
                 schema_version=envelope.schema_version)
