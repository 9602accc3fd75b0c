"""A partition goes on after a dead letter even when nothing was queued behind it.

Checks: a poison record, then (once its dead letter is written and the partition's queue is
empty) a good record published later: the good one is handled. (The partition used to stay
in its retry state after the letter, paused at the broker with nothing queued to wake it,
so later records were never fetched.)
"""

from __future__ import annotations

import pytest

from ringrift.errors import PoisonMessage
from ringrift.events import replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.topics import GAME_COMPLETED
from tests.integration.events.support import (
    LoopThread,
    effects,
    game_event,
    make_store,
    publish,
    recording_handler,
    wait_until,
)

pytestmark = pytest.mark.kafka


def test_records_after_a_dead_letter_are_handled(kafka_settings, topic_factory, group_factory,
                                                 tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, partitions=1)
    engine = make_store(tmp_path / "service.db")

    def refuse(event) -> None:
        if event.payload.game_id == "poison":
            raise PoisonMessage("never valid")

    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group_factory(),
                                   topics=[topic], engine=engine,
                                   handler=recording_handler("a", fail=refuse)))
    try:
        publish(kafka_settings, topic, [game_event("square8_2p", 1, game_id="poison")])
        wait_until(lambda: len(replay.list_dead_letters(kafka_settings, topic.name)) == 1, 120,
                   "the dead letter")
        publish(kafka_settings, topic, [game_event("square8_2p", 2)])
        wait_until(lambda: len(effects(engine)) == 1, 120, "the record after the dead letter")
    finally:
        loop.stop()
    assert [effect.seq for effect in effects(engine)] == [2]
