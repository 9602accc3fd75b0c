"""Table readers against the real broker: current values per key of compacted topics.

Checks: values (and deletions) survive a reader restart, since nothing is committed;
a late value with a lower or equal revision is ignored; subscribers hear of every
change, marked initial while the backlog is read; "caught up" comes only once every
record present at start is in the table; a per-table rule can be given; an undecodable
record is skipped; a reader started before its topic exists waits and then catches up.
"""

from __future__ import annotations

import queue
from dataclasses import replace

import pytest
from prometheus_client import REGISTRY

from ringrift.configs import ALL_CONFIGS
from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.ops.v1.ops_pb2 import ConfigWeight, CurriculumWeights
from ringrift.events.producer import EventProducer
from ringrift.events.provision import create_topics
from ringrift.events.table import Change, TableReader, last_write_wins
from ringrift.events.topics import CURRICULUM_WEIGHTS, MODEL_CURRENT

pytestmark = pytest.mark.kafka
WAIT = 60.0


def current(config_key: str, revision: int, model_id: str | None = None) -> Event[CurrentModel]:
    payload = CurrentModel(config_key=config_key, model_id=model_id or f"{config_key}-r{revision}",
                           revision=revision)
    return new_event(payload, config_key=config_key, producer="promoter")


def publish(kafka_settings, topic, events, tombstones=()) -> None:
    with EventProducer(kafka_settings, client_id="test-producer") as producer:
        for event in events:
            producer.publish(topic, event)
        for key in tombstones:
            producer.tombstone(topic, key)


def models(reader: TableReader) -> dict[str, tuple[str, int]]:
    return {key: (event.payload.model_id, event.payload.revision)
            for key, event in reader.snapshot().items()}


def test_values_and_deletions_survive_a_reader_restart(kafka_settings, topic_factory) -> None:
    topic = topic_factory(MODEL_CURRENT)
    publish(kafka_settings, topic, [current("square8_2p", 1), current("hex8_3p", 1),
                                    current("square8_2p", 2), current("square19_4p", 1)],
            tombstones=["square19_4p"])
    expected = {"square8_2p": ("square8_2p-r2", 2), "hex8_3p": ("hex8_3p-r1", 1)}
    for _restart in range(2):
        with TableReader(kafka_settings, topic) as reader:
            assert reader.wait_caught_up(WAIT), reader.status()
            assert models(reader) == expected
            assert reader.value("square19_4p") is None
            assert reader.status() == "caught up"


def test_a_late_value_with_an_older_or_equal_revision_is_ignored(kafka_settings,
                                                                 topic_factory) -> None:
    topic = topic_factory(MODEL_CURRENT)
    ignored = ("ringrift_events_table_ignored_total", {"topic": topic.name})
    publish(kafka_settings, topic, [current("square8_2p", 5), current("square8_2p", 3),
                                    current("square8_2p", 5, model_id="same-revision")])
    with TableReader(kafka_settings, topic) as reader:
        assert reader.wait_caught_up(WAIT), reader.status()
        assert models(reader) == {"square8_2p": ("square8_2p-r5", 5)}
        assert REGISTRY.get_sample_value(*ignored) == 2
        publish(kafka_settings, topic, [current("square8_2p", 6)])
        _wait_for(reader, lambda: models(reader)["square8_2p"][1] == 6)


def test_subscribers_hear_each_change_initial_ones_marked(kafka_settings, topic_factory) -> None:
    topic = topic_factory(MODEL_CURRENT)
    publish(kafka_settings, topic, [current("square8_2p", 1)])
    changes: queue.Queue[Change] = queue.Queue()
    reader = TableReader(kafka_settings, topic)
    reader.subscribe(changes.put)
    with reader:
        first = changes.get(timeout=WAIT)
        assert (first.key, first.old, first.initial) == ("square8_2p", None, True)
        assert first.new is not None and first.new.payload.revision == 1
        assert reader.wait_caught_up(WAIT)
        publish(kafka_settings, topic, [current("square8_2p", 1), current("square8_2p", 2)],
                tombstones=["hex8_2p", "square8_2p"])  # a stale value, an unknown key
        update = changes.get(timeout=WAIT)
        assert not update.initial
        assert (update.old.payload.revision, update.new.payload.revision) == (1, 2)
        deletion = changes.get(timeout=WAIT)
        assert (deletion.key, deletion.new, deletion.old.payload.revision) == (
            "square8_2p", None, 2)
        assert changes.empty()


def test_caught_up_only_once_the_whole_backlog_is_read(kafka_settings, topic_factory) -> None:
    topic = topic_factory(MODEL_CURRENT)
    configs = [config.key for config in ALL_CONFIGS]
    publish(kafka_settings, topic,
            [current(key, revision) for revision in range(1, 41) for key in configs])
    reader = TableReader(kafka_settings, topic)
    assert not reader.caught_up
    assert reader.status() == "not started"
    with reader:
        assert reader.wait_caught_up(WAIT), reader.status()
        # At the moment it says so, the table already holds the last value of every key.
        assert models(reader) == {key: (f"{key}-r40", 40) for key in configs}
    assert REGISTRY.get_sample_value("ringrift_events_table_caught_up",
                                      {"topic": topic.name}) == 1


def test_a_table_rule_can_be_given_and_bad_records_are_skipped(kafka_settings,
                                                               topic_factory) -> None:
    topic = topic_factory(CURRICULUM_WEIGHTS)

    def weights(weight: float) -> Event[CurriculumWeights]:
        payload = CurriculumWeights(policy="test", weights=[
            ConfigWeight(config_key="square8_2p", weight=weight)])
        return new_event(payload, config_key="", producer="curriculum")

    publish(kafka_settings, topic, [weights(0.2), weights(0.9)])
    with EventProducer(kafka_settings) as producer:
        producer.produce_raw(topic.name, "all", b"not an envelope")
    publish(kafka_settings, topic, [weights(0.5)])

    def highest_weight(held: Event, new: Event) -> bool:
        return new.payload.weights[0].weight > held.payload.weights[0].weight

    for rule, expected in ((None, 0.5), (last_write_wins, 0.5), (highest_weight, 0.9)):
        with TableReader(kafka_settings, topic, is_newer=rule) as reader:
            assert reader.wait_caught_up(WAIT), reader.status()
            assert reader.value("all").weights[0].weight == pytest.approx(expected)
    assert REGISTRY.get_sample_value("ringrift_events_table_undecodable_total",
                                      {"topic": topic.name}) == 3


def test_a_reader_started_before_its_topic_exists_waits_then_catches_up(
        kafka_settings, topic_factory) -> None:
    scratch = topic_factory(MODEL_CURRENT)  # only for a unique name
    topic = replace(scratch, name=scratch.name + ".late")
    with TableReader(kafka_settings, topic) as reader:
        _wait_for(reader, lambda: "does not exist" in reader.status())
        assert not reader.caught_up
        create_topics(kafka_settings, [topic], dead_letters=False)
        publish(kafka_settings, topic, [current("hex8_2p", 1)])
        _wait_for(reader, lambda: reader.value("hex8_2p") is not None)
        assert reader.caught_up


def _wait_for(reader: TableReader, predicate) -> None:
    from tests.integration.events.support import wait_until

    wait_until(predicate, WAIT, f"the table reader ({reader.status()})")
