"""Dead letters: records a consumer could not handle, kept with the reason.

A record that cannot be decoded, or whose handler (or job) failed for good, goes to
``<topic>.dlq`` (same partition) with its original key, value and headers, plus context
headers (``dlq.*``): original topic, partition and offset, event id and type, error class,
message and stack trace, service, its version, host, consumer group and attempt count.

A dead letter must fit under the broker's record size limit (``max_message_bytes``), or
writing it would fail every time and the partition would never move on. So the stack
trace, then the message, are cut by bytes (ending in a ``[... N bytes cut]`` marker) to
fit beside the value; when the value alone is too large, :meth:`DeadLetterWriter.minimal`
writes the letter without it (``dlq.value.dropped`` says how large it was; the original is
still at its offset while the topic keeps it). :class:`DeadLetterSender` writes letters
and waits for the broker: a dead-letter topic that is missing, or a broker that does not
answer, is reported back as an outage, so the loop pauses the partition and retries until
the letter is written (``ringrift events topics create`` makes a missing ``.dlq`` topic);
the partition never crash-loops and never skips the record. Listing and replay live in
:mod:`ringrift.events.replay`.
"""

from __future__ import annotations

import logging
import socket
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import KafkaError
from confluent_kafka import Message as Record

from ringrift.events.gen.events.v1.envelope_pb2 import Envelope
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import DLQ_SUFFIX

log = logging.getLogger(__name__)

HEADER_PREFIX = "dlq."
TOPIC = "dlq.original.topic"
PARTITION = "dlq.original.partition"
OFFSET = "dlq.original.offset"
EVENT_ID = "dlq.event.id"
EVENT_TYPE = "dlq.event.type"
ERROR_CLASS = "dlq.error.class"
ERROR_MESSAGE = "dlq.error.message"
STACK_TRACE = "dlq.error.stacktrace"
SERVICE = "dlq.service"
SERVICE_VERSION = "dlq.service.version"
HOST = "dlq.host"
GROUP = "dlq.group"
ATTEMPTS = "dlq.attempts"
FAILED_AT = "dlq.failed_at"
VALUE_DROPPED = "dlq.value.dropped"
"""Set on a minimal letter: the size in bytes of the value that did not fit."""
REPLAYED_FROM = "ringrift.replayed-from"
"""On a replayed record: ``<dlq topic>:<partition>:<offset>`` of the letter it came from.
Not a ``dlq.`` header, so a replayed record that fails again keeps it in its new letter."""
_OVERHEAD_BYTES = 512  # record and batch framing, header lengths: generous on purpose
_MIN_MESSAGE_BYTES = 200  # a letter always says why, or it is a minimal one


def dlq_topic(original: str) -> str:
    return original + DLQ_SUFFIX


@dataclass(frozen=True)
class SourceRecord:
    """The record a dead letter is about: from the consumer, or kept in a job's row."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None

    @classmethod
    def of(cls, record: Record) -> SourceRecord:
        _, timestamp_ms = record.timestamp()
        return cls(record.topic() or "", record.partition() or 0, record.offset() or 0,
                   record.key(), record.value(), tuple(record.headers() or ()),
                   timestamp_ms if timestamp_ms > 0 else None)


class DeadLetterWriter:
    """Builds the dead letters of one consumer (``service``, ``group``)."""

    def __init__(self, *, service: str, group: str, service_version: str,
                 max_bytes: int = 1_000_000) -> None:
        self._service = service
        self._group = group
        self._version = service_version
        self._max_bytes = max_bytes
        self._host = socket.gethostname()

    def letter(self, source: SourceRecord, error: BaseException | str, attempts: int
               ) -> RawRecord:
        """The dead letter of ``source``, cut to fit under the size limit if need be."""
        message, trace, error_class = _describe(error)
        base = self._context(source, error_class, attempts)
        kept = [(k, v) for k, v in source.headers if not k.startswith(HEADER_PREFIX)]
        used = (_OVERHEAD_BYTES + len(source.key or b"") + len(source.value or b"")
                + sum(len(k) + len(v or b"") for k, v in kept)
                + sum(len(k) + len(v) for k, v in base) + len(ERROR_MESSAGE) + len(STACK_TRACE))
        room = self._max_bytes - used
        if room < min(len(message.encode()), _MIN_MESSAGE_BYTES):
            return self.minimal(source, error, attempts)  # no room to say why: drop the value
        # The trace may take up to half the room; the message gets the rest first.
        trace_share = min(len(trace.encode()), room // 2)
        message_bytes = _cut(message.encode(), max(room - trace_share, _MIN_MESSAGE_BYTES))
        trace_bytes = _cut(trace.encode(), max(0, room - len(message_bytes)), keep_tail=True)
        headers = kept + base + [(ERROR_MESSAGE, message_bytes), (STACK_TRACE, trace_bytes)]
        return RawRecord(dlq_topic(source.topic), source.key, source.value, tuple(headers),
                         partition=source.partition, timestamp_ms=source.timestamp_ms)

    def minimal(self, source: SourceRecord, error: BaseException | str, attempts: int
                ) -> RawRecord:
        """A letter without the value and the original headers (they did not fit)."""
        message, _, error_class = _describe(error)
        headers = self._context(source, error_class, attempts) + [
            (ERROR_MESSAGE, _cut(message.encode(), 2000)),
            (VALUE_DROPPED, str(len(source.value or b"")).encode())]
        return RawRecord(dlq_topic(source.topic), _cut(source.key or b"", 1000) or None, None,
                         tuple(headers), partition=source.partition)

    def _context(self, source: SourceRecord, error_class: str, attempts: int
                 ) -> list[tuple[str, bytes]]:
        event_id, event_type = _envelope_ids(source.value)
        context = {
            TOPIC: source.topic, PARTITION: str(source.partition), OFFSET: str(source.offset),
            EVENT_ID: event_id, EVENT_TYPE: event_type, ERROR_CLASS: error_class,
            SERVICE: self._service, SERVICE_VERSION: self._version, HOST: self._host,
            GROUP: self._group, ATTEMPTS: str(attempts),
            FAILED_AT: datetime.now(UTC).isoformat(),
        }
        return [(k, v.encode()[:1000]) for k, v in context.items()]


class DeadLetterSender:
    """Writes letters through ``producer`` and waits for them, within the poll interval."""

    _SIZE_ERRORS = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_MSG_SIZE})

    def __init__(self, producer: EventProducer, settings: KafkaSettings,
                 writer: DeadLetterWriter) -> None:
        self._producer = producer
        self._settings = settings
        self._writer = writer
        self._known: set[str] = set()  # dead-letter topics seen to exist

    def send(self, source: SourceRecord, error: BaseException | str, attempts: int
             ) -> str | None:
        """Write the letter of ``source``; None once the broker has it, else why not."""
        letter = self._writer.letter(source, error, attempts)
        if letter.topic not in self._known:
            # Sending to a missing topic fails only after librdkafka's metadata wait (30 s),
            # and every retry would queue another copy: ask first.
            exists = self._producer.topic_exists(letter.topic, self._settings.connect_timeout_s)
            if exists is False:
                return (f"dead-letter topic {letter.topic} does not exist; create it with "
                        "`ringrift events topics create`")
            if exists is None:
                return f"no broker answered about dead-letter topic {letter.topic}"
            self._known.add(letter.topic)
        failure = self._deliver(letter)
        if failure is not None and failure.code() in self._SIZE_ERRORS:
            log.warning("dead letter of %s[%d]@%d too large (%s); writing it without its "
                        "value", source.topic, source.partition, source.offset, failure.str())
            failure = self._deliver(self._writer.minimal(source, error, attempts))
        if failure is None:
            return None
        self._known.discard(letter.topic)  # ask again next time: was it deleted?
        return f"cannot write the dead letter to {letter.topic}: {failure.str()} ({failure.name()})"

    def _deliver(self, record: RawRecord) -> KafkaError | None:
        # Bounded well below max.poll.interval.ms: the loop must poll again in time.
        timeout = min(self._settings.publish_timeout_s,
                      self._settings.max_poll_interval_ms / 3000)
        delivery = self._producer.send([record])
        if not delivery.wait(timeout):
            return KafkaError(KafkaError._MSG_TIMED_OUT, f"not acknowledged within {timeout:.0f} s")
        failures = delivery.failures()
        return failures[0][1] if failures else None


def _describe(error: BaseException | str) -> tuple[str, str, str]:
    """(message, stack trace, class) of an exception, or of a failure known by text only."""
    if isinstance(error, str):
        return error, "", "ringrift.events.jobs.JobFailed"
    return (str(error), "".join(traceback.format_exception(error)),
            f"{type(error).__module__}.{type(error).__qualname__}")


def _cut(data: bytes, limit: int, *, keep_tail: bool = False) -> bytes:
    """``data`` if it fits in ``limit`` bytes, else its head (or tail: a stack trace ends
    with what matters) and a marker, within ``limit``, cut on a character boundary."""
    if len(data) <= limit:
        return data
    marker = f" [... {len(data)} bytes, cut to fit the record size limit]".encode()
    if limit <= len(marker):
        return b""
    room = limit - len(marker)
    if keep_tail:
        return marker.strip() + b" " + data[-(room - 1):].decode(errors="ignore").encode()
    return data[:room].decode(errors="ignore").encode() + marker


def _envelope_ids(value: bytes | None) -> tuple[str, str]:
    """The event id and type, if the value is an envelope at all (best effort)."""
    try:
        parsed = Envelope.FromString(value or b"")
    except Exception:  # not an envelope: that is why it is here
        return "", ""
    return parsed.event_id, parsed.event_type
