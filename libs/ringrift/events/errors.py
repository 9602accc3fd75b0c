"""Errors of the event backbone.

Each one sits under one of the two branches of :mod:`ringrift.errors`, because the
branch decides what the consumer loop does: a :class:`~ringrift.errors.PoisonMessage`
goes to the dead-letter topic at once, a :class:`~ringrift.errors.RetryableError` is
retried with backoff first.
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


class PublishError(RetryableError):
    """A record was not acknowledged by the broker (delivery failed or timed out)."""


class UnknownTopic(RingriftError):
    """A topic name that the registry does not declare."""


class ProvisioningError(RingriftError):
    """The broker refused to create a topic (the message names it and why)."""
