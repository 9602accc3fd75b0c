"""What a failure means for the consumer loop: poison, an outage, or a handler error.

An outage (a database restart, a broker that does not answer, a store that is away) says
nothing about the record: retrying it later will succeed, so it must never reach the
dead-letter topic, or a 30-second PostgreSQL restart would move a whole window of records
there and break per-config order. Poison can never succeed, so it goes there at once. Any
other handler error may be a bug hit by this record only: it gets a bounded number of
attempts, then the dead-letter topic.
"""

from __future__ import annotations

from enum import StrEnum

from confluent_kafka import KafkaError, KafkaException
from sqlalchemy import exc as sa

from ringrift.errors import PoisonMessage, RetryableError

# Infrastructure failures by type: retried without limit.
_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    RetryableError,            # includes PublishError and the project's own transient errors
    sa.OperationalError,       # connection refused or lost, server shutting down, locked
    sa.InterfaceError,         # the DBAPI connection is unusable
    sa.DisconnectionError,
    sa.TimeoutError,           # no pooled connection became free
    ConnectionError,
    TimeoutError,
)


class Failure(StrEnum):
    """The three ways the consumer loop treats an error."""

    POISON = "poison"
    """Dead-letter the record at once."""
    OUTAGE = "outage"
    """Pause the partition and retry with bounded backoff, without limit."""
    HANDLER = "handler"
    """Retry a bounded number of times, then dead-letter the record."""


def classify(error: BaseException) -> Failure:
    """How the loop treats ``error``, looking through its ``raise ... from`` chain.

    Args:
        error: what the handler (or the loop's own database or broker call) raised.

    Returns:
        ``POISON`` for :class:`~ringrift.errors.PoisonMessage`; ``OUTAGE`` when the error,
        or one it was raised from, is an infrastructure failure; ``HANDLER`` otherwise.
    """
    if isinstance(error, PoisonMessage):
        return Failure.POISON
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage(current):
            return Failure.OUTAGE
        current = current.__cause__ or current.__context__
    return Failure.HANDLER


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, _OUTAGE_TYPES):
        return True
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0],
                                                                          KafkaError):
        kafka_error: KafkaError = error.args[0]
        return not kafka_error.fatal() and (kafka_error.retriable()
                                            or kafka_error.code() in _TRANSIENT_KAFKA)
    return False


_TRANSIENT_KAFKA = frozenset({
    KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT,
    KafkaError._MSG_TIMED_OUT, KafkaError.REQUEST_TIMED_OUT, KafkaError.NETWORK_EXCEPTION,
    KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR, KafkaError._WAIT_COORD,
})
"""Kafka errors that pass once the broker (or a missing topic) is back."""


def describe(error: BaseException) -> str:
    """One line naming ``error`` for a status view: ``Class: first line of the message``."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]
