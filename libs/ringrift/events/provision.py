"""Create the pipeline's topics from the registry: ``ringrift events topics create``.

Idempotent: topics that exist are left alone (a partition count that differs from
the registry is reported, never changed behind the user's back). Every stream topic
gets its dead-letter twin ``<name>.dlq`` with the same partitions and a long retention,
so dead letters outlive the cause that made them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, TopicMetadata

from ringrift.events.errors import ProvisioningError
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import DAY_MS, TOPICS, Cleanup, TopicSpec

log = logging.getLogger(__name__)
DLQ_RETENTION_MS = 90 * DAY_MS


@dataclass(frozen=True)
class ProvisionResult:
    created: tuple[str, ...]
    existing: tuple[str, ...]


def dead_letter_spec(spec: TopicSpec) -> TopicSpec:
    """The dead-letter twin of ``spec``: same key and partitions, a stream kept 90 days."""
    return replace(spec, name=spec.dlq_name, cleanup=Cleanup.DELETE,
                   retention_ms=DLQ_RETENTION_MS, producers=(), consumers=())


def with_dead_letters(specs: Iterable[TopicSpec]) -> list[TopicSpec]:
    """``specs`` and a dead-letter twin for each (compacted topics too: any can fail)."""
    return [twin for spec in specs for twin in (spec, dead_letter_spec(spec))]


def create_topics(settings: KafkaSettings, specs: Iterable[TopicSpec] = TOPICS, *,
                  dead_letters: bool = True, timeout: float = 60.0) -> ProvisionResult:
    """Create the topics of ``specs`` (and their dead-letter twins) that do not exist.

    Raises:
        ProvisioningError: the broker refused a topic for another reason than that it
            exists (the message names the topic and the broker's reason).
    """
    specs = with_dead_letters(specs) if dead_letters else list(specs)
    admin = AdminClient(settings.client_config())
    existing = broker_topics(admin, settings)
    for spec in specs:
        if spec.name in existing and len(existing[spec.name].partitions) != spec.partitions:
            log.warning("topic %s has %d partitions, the registry says %d", spec.name,
                        len(existing[spec.name].partitions), spec.partitions)
    missing = [spec for spec in specs if spec.name not in existing]
    if not missing:
        return ProvisionResult((), tuple(spec.name for spec in specs))
    futures = admin.create_topics(
        [NewTopic(spec.name, num_partitions=spec.partitions,
                  replication_factor=settings.replication_factor, config=spec.broker_config())
         for spec in missing],
        operation_timeout=timeout, request_timeout=timeout)
    created: list[str] = []
    for name, future in futures.items():
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # lost a race: fine
                raise ProvisioningError(f"could not create topic {name}: "
                                        f"{error.args[0].str()}") from error
    _wait_for_leaders(admin, created, timeout)
    created_set = set(created)
    return ProvisionResult(tuple(sorted(created_set)),
                           tuple(spec.name for spec in specs if spec.name not in created_set))


def broker_topics(admin: AdminClient, settings: KafkaSettings) -> dict[str, TopicMetadata]:
    """The broker's topics.

    Raises:
        ProvisioningError: the broker did not answer within the connect timeout.
    """
    try:
        return dict(admin.list_topics(timeout=settings.connect_timeout_s).topics)
    except KafkaException as error:
        raise ProvisioningError(
            f"no answer from a Kafka broker at {settings.bootstrap_servers} within "
            f"{settings.connect_timeout_s:.0f} s ({error.args[0].str()}); start one with "
            "`make kafka-up` or point KAFKA_BOOTSTRAP_SERVERS at yours") from error


def _wait_for_leaders(admin: AdminClient, names: list[str], timeout: float) -> None:
    """Return once every partition of ``names`` has a leader, so the topics are usable."""
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        topics = admin.list_topics(timeout=timeout).topics
        pending = {name for name in pending if name not in topics or topics[name].error
                   or any(p.leader < 0 for p in topics[name].partitions.values())}
        if pending and time.monotonic() > deadline:
            raise ProvisioningError(f"topics without a leader after {timeout:.0f} s: "
                                    f"{', '.join(sorted(pending))}")
        if pending:
            time.sleep(0.1)
