"""Group membership of the consumer loop, against the real broker.

Checks: the loop joins with the cooperative-sticky assignor, and with an ``instance_id``
as a static member (``group.instance.id``), so a process restarted in place gets its
partitions back without a rebalance of the others.
"""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.topics import GAME_COMPLETED
from tests.integration.events.support import LoopThread, make_store, recording_handler, wait_until

pytestmark = pytest.mark.kafka


def test_cooperative_sticky_and_static_membership(kafka_settings, topic_factory,
                                                  group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 2)
    group = group_factory()
    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                   topics=[topic], engine=make_store(tmp_path / "e.db"),
                                   handler=recording_handler("a"), instance_id="exporter-0"))
    try:
        wait_until(lambda: len(loop.loop.status().assigned) == 2, 120, "the assignment")
        admin = AdminClient(kafka_settings.client_config())
        description = admin.describe_consumer_groups([group])[group].result(timeout=30)
    finally:
        loop.stop()
    assert description.partition_assignor == "cooperative-sticky"
    [member] = description.members
    assert member.group_instance_id == "exporter-0"
