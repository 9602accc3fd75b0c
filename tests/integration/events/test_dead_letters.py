"""(2) and (5): dead letters against the real broker, and replay through the CLI.

Checks: a record whose handler keeps failing is retried, then dead-lettered with
headers naming the original topic, partition and offset, the error class, message and
stack trace, the service, group and attempt count, while the records behind it are
still handled; ``ringrift events dlq list`` shows it and ``dlq replay`` handles it once
the cause is fixed, exactly once even when replayed twice. Bad input (not an envelope,
an unknown event type, a wrong schema version, a type the topic does not carry) is
dead-lettered at once with a clear error in the headers and the logs, and the consumer
keeps running; so is an event the handler itself refuses as poison.
"""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from ringrift.cli.main import main as ringrift
from ringrift.errors import PoisonMessage
from ringrift.events import deadletter, replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.events.v1.envelope_pb2 import Envelope
from ringrift.events.gen.model.v1.model_pb2 import CandidateReady
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.producer import EventProducer
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


def test_failing_record_is_dead_lettered_and_replayed_once(
        kafka_settings, topic_factory, group_factory, tmp_path, capsys) -> None:
    topic = topic_factory(GAME_COMPLETED, partitions=3)
    group, engine = group_factory(), make_store(tmp_path / "exporter.db")
    cause = {"bug": True}

    def fail(event) -> None:  # a bug (not an outage): bounded attempts, then a dead letter
        if event.payload.num_moves == 3 and cause["bug"]:
            raise ValueError("shard writer cannot encode this game")

    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                   topics=[topic], engine=engine,
                                   handler=recording_handler("a", fail=fail)))
    try:
        publish(kafka_settings, topic, [game_event("square8_2p", seq) for seq in range(8)])
        wait_until(lambda: len(effects(engine)) == 7, 120, "the other 7 events handled")
        assert [e.seq for e in effects(engine)] == [0, 1, 2, 4, 5, 6, 7]

        wait_until(lambda: len(replay.list_dead_letters(kafka_settings, topic.name)) == 1,
                   60, "the dead letter")
        [letter] = replay.list_dead_letters(kafka_settings, topic.name)
        c = letter.context
        assert c[deadletter.TOPIC] == topic.name
        assert c[deadletter.OFFSET] == "3"
        assert letter.key == b"square8_2p"
        assert c[deadletter.ERROR_CLASS] == "builtins.ValueError"
        assert c[deadletter.ERROR_MESSAGE] == "shard writer cannot encode this game"
        assert "Traceback" in c[deadletter.STACK_TRACE] and "in fail" in c[deadletter.STACK_TRACE]
        assert c[deadletter.SERVICE] == "exporter" and c[deadletter.GROUP] == group
        assert c[deadletter.ATTEMPTS] == str(kafka_settings.max_attempts)
        assert GameCompleted.FromString(
            Envelope.FromString(letter.value).payload).num_moves == 3
        assert REGISTRY.get_sample_value("ringrift_events_dead_lettered_total",
                                         {"topic": topic.name, "group": group}) == 1

        args = ["events", "dlq", "list", topic.name, "--bootstrap-servers",
                kafka_settings.bootstrap_servers]
        assert ringrift(args) == 0
        listing = capsys.readouterr().out
        assert letter.position in listing and "shard writer cannot encode" in listing

        cause["bug"] = False
        replay_args = ["events", "dlq", "replay", topic.name, "--position", letter.position,
                       "--bootstrap-servers", kafka_settings.bootstrap_servers]
        assert ringrift(replay_args) == 0
        assert f"replayed 1 record(s) to {topic.name}" in capsys.readouterr().out
        wait_until(lambda: len(effects(engine)) == 8, 120, "the replayed record handled")
        # The replay is recorded: a second one is refused unless forced.
        [letter] = replay.list_dead_letters(kafka_settings, topic.name)
        assert len(letter.replays) == 1
        assert ringrift(replay_args) == 0
        out = capsys.readouterr().out
        assert "replayed 0 record(s)" in out and "already replayed" in out, out
        assert ringrift([*replay_args, "--force"]) == 0
        skipped = ("ringrift_events_duplicates_skipped_total",
                   {"topic": topic.name, "group": group})
        wait_until(lambda: (REGISTRY.get_sample_value(*skipped) or 0) == 1, 120,
                   "the forced second copy skipped as already processed")
        [letter] = replay.list_dead_letters(kafka_settings, topic.name)
        assert len(letter.replays) == 2
    finally:
        loop.stop()
    assert sorted(e.seq for e in effects(engine)) == list(range(8))


def test_bad_input_is_dead_lettered_with_a_clear_error_and_the_consumer_goes_on(
        kafka_settings, topic_factory, group_factory, tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="ringrift.events.consumer")
    topic = topic_factory(GAME_COMPLETED, partitions=1)
    group, engine = group_factory(), make_store(tmp_path / "exporter.db")

    def envelope(**fields: object) -> bytes:
        base = {"event_id": "e-bad", "event_type": "ringrift.selfplay.v1.GameCompleted",
                "schema_version": 1, "config_key": "square8_2p", "producer": "selfplay",
                "payload": GameCompleted(game_id="g").SerializeToString()}
        return Envelope(**(base | fields)).SerializeToString()

    bad = {
        b"this is not protobuf \xff\xff": "MalformedEnvelope",
        envelope(event_type="ringrift.selfplay.v9.GameExploded"): "UnknownEventType",
        envelope(schema_version=7): "SchemaVersionMismatch",
        envelope(event_type="ringrift.model.v1.CandidateReady",
                 payload=CandidateReady(model_id="m").SerializeToString()):
            "UnexpectedEventType",
    }
    illegal = game_event("square8_2p", 98, game_id="illegal-move")
    with EventProducer(kafka_settings) as producer:
        for value in bad:
            producer.produce_raw(topic.name, "square8_2p", value)
    publish(kafka_settings, topic, [illegal, game_event("square8_2p", 99)])

    def refuse_illegal(event) -> None:  # a handler's own verdict: never retried
        if event.payload.game_id == "illegal-move":
            raise PoisonMessage("move 17 of game illegal-move is not legal")

    loop = LoopThread(ConsumerLoop(kafka_settings, service="exporter", group=group,
                                   topics=[topic], engine=engine,
                                   handler=recording_handler("a", fail=refuse_illegal)))
    try:
        wait_until(lambda: len(effects(engine)) == 1, 120, "the good event behind the bad")
        wait_until(lambda: len(replay.list_dead_letters(kafka_settings, topic.name)) == 5,
                   60, "five dead letters")
        assert loop.thread.is_alive()
    finally:
        loop.stop()
    assert [e.seq for e in effects(engine)] == [99]
    letters = replay.list_dead_letters(kafka_settings, topic.name)
    assert [letter.value for letter in letters[:4]] == list(bad)
    for letter, error in zip(letters[:4], bad.values(), strict=True):
        assert letter.context[deadletter.ERROR_CLASS] == f"ringrift.events.errors.{error}"
        assert letter.context[deadletter.ATTEMPTS] == "1"
        assert letter.context[deadletter.ERROR_MESSAGE]
    assert letters[4].context[deadletter.ERROR_CLASS] == "ringrift.errors.PoisonMessage"
    assert letters[4].context[deadletter.ATTEMPTS] == "1"
    assert "not legal" in letters[4].context[deadletter.ERROR_MESSAGE]
    messages = {letter.context[deadletter.ERROR_CLASS].rsplit(".", 1)[1]:
                letter.context[deadletter.ERROR_MESSAGE] for letter in letters}
    assert "not a ringrift.events.v1.Envelope" in messages["MalformedEnvelope"]
    assert "ringrift.selfplay.v9.GameExploded" in messages["UnknownEventType"]
    assert "schema version 7" in messages["SchemaVersionMismatch"]
    assert "carries ringrift.selfplay.v1.GameCompleted" in messages["UnexpectedEventType"]
    logged = caplog.text
    for error in bad.values():
        assert error in logged
    assert "dead-lettered record" in logged
