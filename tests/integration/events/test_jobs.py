"""(3) Long work as jobs, against the real broker: longer than max.poll.interval.ms, killed,
stopped with SIGTERM.

Checks: with ``max.poll.interval.ms`` at 7 s, a job that runs five times as long in a
group of two consumers runs exactly once, with no rebalance; the records of its config
behind it wait for it (order per config), those of another config are handled while it
runs; its output leaves once, through the outbox. A job whose process is SIGKILLed midway
is resumed by the next process from its last checkpoint once its lease runs out, and
finishes once. SIGTERM stops a job cooperatively within the grace period: the process
exits 0, the job is released at once (the next process does not wait for a lease) and
resumes from its checkpoint.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ringrift.events import envelope
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.jobs import JobContext, JobRequest, JobRow, JobState
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.storage.database import session_scope
from tests.integration.events.support import (
    Effect,
    LoopThread,
    effects,
    game_event,
    kill,
    make_store,
    publish,
    read_topic,
    recording_handler,
    start_child,
    terminate,
    wait_until,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
JOB_S = 35.0  # five times max.poll.interval.ms


def jobs(engine) -> list[JobRow]:
    with session_scope(engine, read_only=True) as session:
        return list(session.scalars(select(JobRow)))


def test_a_job_longer_than_the_poll_interval_runs_once_without_a_rebalance(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 2), topic_factory(SHARD_WRITTEN, 2)
    settings = kafka_settings.model_copy(update={"max_poll_interval_ms": 7_000})
    group, engine = group_factory(), make_store(tmp_path / "trainer.db")
    record = recording_handler("trainer")
    runs: list[str] = []

    def handle(event, session):
        record(event, session)
        return [JobRequest("train", {"steps": 3})] if event.payload.num_moves == 0 \
            and event.config_key == "square8_2p" else []

    def train(context: JobContext):
        runs.append(context.job_id)
        started = time.monotonic()
        # Long, and not done before the other config's records are handled beside it.
        while time.monotonic() - started < JOB_S or len(
                [e for e in effects(engine) if e.config_key == "square8_3p"]) < 3:
            context.check_cancelled()
            context.report_progress(min((time.monotonic() - started) / JOB_S, 1.0), "training")
            time.sleep(0.5)
            if time.monotonic() - started > 300:
                raise AssertionError("the other config was never handled while the job ran")
        context.add_effect(lambda session: session.add(Effect(
            event_id=context.job_id, config_key="square8_2p", seq=-1, consumer="job")))
        return [(shards, envelope.follow_up(context.event, ShardWritten(shard_id="trained"),
                                            producer="trainer", name="trained"))]

    loops = [LoopThread(ConsumerLoop(settings, service="trainer", group=group, topics=[games],
                                     handler=handle, engine=engine, jobs={"train": train}))
             for _ in range(2)]
    try:
        wait_until(lambda: all(t.loop.status().assigned for t in loops), 120,
                   "both consumers to get a partition")
        rebalances = [t.loop.status().rebalances for t in loops]
        publish(settings, games, [game_event("square8_2p", seq) for seq in range(3)]
                + [game_event("square8_3p", seq) for seq in range(3)])
        wait_until(lambda: any(t.loop.status().jobs for t in loops), 120, "the job to run")
        owner = next(t for t in loops if t.loop.status().jobs)
        [status] = owner.loop.status().jobs
        assert status.kind == "train" and status.state == "running"
        wait_until(lambda: [j.state for j in jobs(engine)] == [JobState.DONE], 600,
                   "the job to finish")
        wait_until(lambda: len(effects(engine)) == 7, 120, "the records behind the job handled")
        assert [t.loop.status().rebalances for t in loops] == rebalances, "a rebalance happened"
    finally:
        for loop in loops:
            loop.stop()
    assert len(runs) == 1, f"the job ran {len(runs)} times"
    handled = effects(engine)
    done_at = next(n for n, e in enumerate(handled) if e.consumer == "job")
    assert [e.seq for e in handled if e.config_key == "square8_2p"] == [0, -1, 1, 2]
    assert all(n < done_at for n, e in enumerate(handled) if e.config_key == "square8_3p")
    assert [e.payload.shard_id for _, e in read_topic(settings, shards.name)] == ["trained"]
    [job] = jobs(engine)
    assert job.starts == 1 and job.attempts == 0 and job.run_token is None


def _job_steps(log: Path) -> list[tuple[int, int]]:
    """(pid, step) lines the child's job wrote, in order."""
    if not log.exists():
        return []
    return [(int(pid), int(step)) for pid, step in
            (line.split() for line in log.read_text().splitlines())]


def _checkpoint(engine) -> int | None:
    found = jobs(engine)
    return int(found[0].checkpoint) if found and found[0].checkpoint is not None else None


def test_a_job_killed_midway_resumes_from_its_checkpoint(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games, shards = topic_factory(GAME_COMPLETED, 1), topic_factory(SHARD_WRITTEN, 1)
    group, db, log = group_factory(), tmp_path / "trainer.db", tmp_path / "child.log"
    steps_log, engine = tmp_path / "steps.log", make_store(db)
    options = ["--output-topic", shards.name, "--job-steps", "12", "--job-log", str(steps_log),
               "--job-lease-s", "6"]
    publish(kafka_settings, games, [game_event("square8_2p", 0)])

    first = start_child(kafka_settings, games, group, db, log, *options)
    try:
        wait_until(lambda: (_checkpoint(engine) or 0) >= 3, 180, "three steps checkpointed")
    finally:
        kill(first)
    killed_at = _checkpoint(engine)
    assert killed_at is not None and killed_at < 11, "the job ended before the kill"

    second = start_child(kafka_settings, games, group, db, log, *options)
    try:  # waits out the dead member's session and the job's lease, then resumes
        wait_until(lambda: [j.state for j in jobs(engine)] == [JobState.DONE], 240,
                   "the resumed job to finish")
    finally:
        terminate(second, log)
    steps = _job_steps(steps_log)
    resumed = [step for pid, step in steps if pid == second.pid]
    assert resumed == list(range(killed_at + 1, 12)), steps
    assert {step for _, step in steps} == set(range(12))
    [job] = jobs(engine)
    assert job.starts == 2
    assert [e.payload.shard_id for _, e in read_topic(kafka_settings, shards.name)] == [
        f"shard-{game_event('square8_2p', 0).payload.game_id}", f"job-{job.job_id}"]
    assert [e.consumer for e in effects(engine)] == ["child", f"job-{second.pid}"]


def test_sigterm_stops_a_job_cooperatively_and_the_next_process_resumes_it_at_once(
        kafka_settings, topic_factory, group_factory, tmp_path) -> None:
    games = topic_factory(GAME_COMPLETED, 1)
    group, db, log = group_factory(), tmp_path / "trainer.db", tmp_path / "child.log"
    steps_log, engine = tmp_path / "steps.log", make_store(db)
    publish(kafka_settings, games, [game_event("square8_2p", 0)])

    # A lease far longer than the test: the second process can only resume a released job.
    options = ["--job-steps", "8", "--job-log", str(steps_log), "--job-lease-s", "3600",
               "--grace-s", "20"]
    first = start_child(kafka_settings, games, group, db, log, *options)
    try:
        wait_until(lambda: (_checkpoint(engine) or 0) >= 1, 180, "a step checkpointed")
    finally:
        terminate(first, log)
    [job] = jobs(engine)
    assert job.state == JobState.PENDING and job.run_token is None, job.state
    stopped_at = int(job.checkpoint or b"-1")
    assert stopped_at < 7, "the job ended before SIGTERM"
    assert f"job {job.job_id} stopped; it resumes from its checkpoint" in log.read_text()

    second = start_child(kafka_settings, games, group, db, log, *options)
    try:
        wait_until(lambda: [j.state for j in jobs(engine)] == [JobState.DONE], 240,
                   "the released job to finish in the next process")
    finally:
        terminate(second, log)
    resumed = [step for pid, step in _job_steps(steps_log) if pid == second.pid]
    assert resumed == list(range(stopped_at + 1, 8))
