"""(3) Jobs that fail, against the real broker: outages are retried, bugs are bounded.

Checks: a job whose store is away (``RetryableError``) more times than ``max_attempts``
is retried until it succeeds and finishes once, nothing dead-lettered; a job that keeps
failing on a bug is given up after ``max_attempts``: its input goes to the dead-letter
topic with the job's error, the job is marked failed, and the records of its config
behind it are handled after it, in order.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from ringrift.errors import RetryableError
from ringrift.events import deadletter, replay
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.jobs import JobContext, JobRequest, JobRow, JobState
from ringrift.events.topics import GAME_COMPLETED
from ringrift.storage.database import session_scope
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


def test_job_outages_are_retried_and_job_bugs_dead_letter_the_input(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    topic = topic_factory(GAME_COMPLETED, 2)
    engine = make_store(tmp_path / "evaluator.db")
    record = recording_handler("evaluator")
    runs: Counter[str] = Counter()
    outages = 2 * kafka_settings.max_attempts

    def handle(event, session):
        record(event, session)
        if event.payload.num_moves == 0:
            return [JobRequest("match", {"config": event.config_key})]
        return []

    def match(context: JobContext):
        config = context.params["config"]
        runs[config] += 1
        if config == "square8_2p" and runs[config] <= outages:
            raise RetryableError("model store away")
        if config == "square8_3p":
            raise ValueError("the match engine crashed")
        return []

    publish(kafka_settings, topic, [game_event(key, seq) for seq in range(3)
                                    for key in ("square8_2p", "square8_3p")])
    loop = LoopThread(ConsumerLoop(kafka_settings, service="evaluator", group=group_factory(),
                                   topics=[topic], handler=handle, engine=engine,
                                   jobs={"match": match}))
    try:
        wait_until(lambda: len(effects(engine)) == 6, 180, "every record handled")
        wait_until(lambda: sorted(j.state for j in jobs(engine)) == [JobState.DONE,
                                                                     JobState.FAILED],
                   120, "both jobs ended")
    finally:
        loop.stop()
    assert runs == {"square8_2p": outages + 1, "square8_3p": kafka_settings.max_attempts}
    [letter] = replay.list_dead_letters(kafka_settings, topic.name)
    assert letter.context[deadletter.OFFSET] == "0" and letter.partition == 1
    assert "the match engine crashed" in letter.context[deadletter.ERROR_MESSAGE]
    assert letter.context[deadletter.ATTEMPTS] == str(kafka_settings.max_attempts)
    failed = next(j for j in jobs(engine) if j.state == JobState.FAILED)
    assert "the match engine crashed" in (failed.error or "")
    for key in ("square8_2p", "square8_3p"):  # the records behind each job came after it
        assert [e.seq for e in effects(engine) if e.config_key == key] == [0, 1, 2]


def jobs(engine) -> list[JobRow]:
    with session_scope(engine, read_only=True) as session:
        return list(session.scalars(select(JobRow)))
