"""How the consumer loop classifies failures (ringrift.events.failures).

Checks: poison (a PoisonMessage, a duplicate output id) is dead-lettered at once; outages
(RetryableError, PublishError, SQLAlchemy's OperationalError/InterfaceError, a lost
connection, transient Kafka errors) are retried without limit, also when a handler wraps
them in its own error; anything else (a bug, a constraint violation, a fatal Kafka error)
is a handler error with bounded attempts.
"""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from sqlalchemy import exc

from ringrift.errors import PoisonMessage, RetryableError
from ringrift.events.errors import DuplicateEventId, MalformedEnvelope, PublishError
from ringrift.events.failures import Failure, classify, describe


def _wrapped(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as error:
            raise ValueError("could not write the shard") from error
    except ValueError as outer:
        return outer


@pytest.mark.parametrize("error", [PoisonMessage("illegal move"), MalformedEnvelope("junk"),
                                   DuplicateEventId("two outputs")])
def test_poison(error: BaseException) -> None:
    assert classify(error) is Failure.POISON


@pytest.mark.parametrize("error", [
    RetryableError("store away"),
    PublishError("not acknowledged"),
    exc.OperationalError("SELECT 1", {}, Exception("connection refused")),
    exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
    exc.DisconnectionError("gone"),
    exc.DBAPIError("SELECT 1", {}, Exception("server closed the connection"),
                   connection_invalidated=True),
    KafkaException(KafkaError(KafkaError._TRANSPORT)),
    KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)),
    ConnectionResetError("reset by peer"),
    _wrapped(exc.OperationalError("INSERT", {}, Exception("server is shutting down"))),
])
def test_outages(error: BaseException) -> None:
    assert classify(error) is Failure.OUTAGE


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
    KafkaException(KafkaError(KafkaError._FATAL, fatal=True)),
    _wrapped(KeyError("missing field")),
])
def test_handler_errors(error: BaseException) -> None:
    assert classify(error) is Failure.HANDLER


def test_describe_is_one_short_line() -> None:
    text = describe(RuntimeError("first line\nsecond line " + "x" * 500))
    assert text == "RuntimeError: first line"
    assert len(describe(RuntimeError("y" * 1000))) == 300
