"""Errors of the event backbone.

Each one sits under one of the two branches of :mod:`ringrift.errors`, because the
branch decides what the consumer loop does (:mod:`ringrift.events.failures`): a
:class:`~ringrift.errors.PoisonMessage` goes to the dead-letter topic at once, a
:class:`~ringrift.errors.RetryableError` is an outage, retried without limit.
"""

from __future__ import annotations

from ringrift.errors import PoisonMessage, RetryableError, RingriftError


class MalformedEnvelope(PoisonMessage):
    """The record's value is not a valid envelope (or its payload does not parse)."""


class UnknownEventType(PoisonMessage):
    """The envelope names an event type that no topic in the registry carries."""


class UnexpectedEventType(PoisonMessage):
    """A known event type arrived on a topic that does not carry it."""


class SchemaVersionMismatch(PoisonMessage):
    """The envelope's schema version is not the one this code reads."""


class DuplicateEventId(PoisonMessage):
    """Two outputs with one event id: in one transaction, or an id already in the outbox.

    Derived ids (:func:`ringrift.events.envelope.follow_up`) are the same on every re-run, so
    two outputs of one type from one input need distinct names; they are refused rather than
    silently collapsed downstream into one.
    """


class PublishError(RetryableError):
    """A record was not acknowledged by the broker (delivery failed or timed out).

    ``code`` is librdkafka's error code of the first failure, when there was one.
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class UnknownTopic(RingriftError):
    """A topic name that the registry does not declare."""


class ProvisioningError(RingriftError):
    """The broker refused to create a topic (the message names it and why)."""
