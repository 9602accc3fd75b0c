"""The pipeline end to end: every service as its own process, started by ``ringrift up``'s
supervisor, on the real broker, until two promotions on square8 2p (the ``tiny`` budgets).

Then self-play is stopped, the rest is let to settle (the exporter flushes the last games,
the trainer and the evaluator finish what they started), and the run is checked from its
topics and the services' APIs only: every game published is in exactly one shard; every
shard was trained on (but the newest ones, too few samples to start a run); every
candidate has exactly one decision and a terminal state in the promoter's registry;
``model.current`` is the last promotion; self-play's games after a promotion name the new
model; each model the gate promoted is rated with an interval; curriculum weights and a
cluster status with the agent's node were published; no dead letters; the exporter has
nothing pending; no service died, and each one stopped cleanly (exit 0) when the run ended.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from ringrift.events.topics import (
    CANDIDATE_READY,
    CLUSTER_STATUS,
    CURRICULUM_WEIGHTS,
    EVALUATION_COMPLETED,
    GAME_COMPLETED,
    MODEL_CURRENT,
    MODEL_LIFECYCLE,
    SHARD_WRITTEN,
    TOPICS,
)
from ringrift.pipeline.bootstrap import namespaced
from ringrift.pipeline.history import History, read_history
from ringrift.pipeline.processes import pipeline_processes
from ringrift.pipeline.profiles import profile
from ringrift.pipeline.run import Pipeline
from ringrift.pipeline.settings import UpSettings
from ringrift.pipeline.supervisor import FAILED, STOPPED
from tests.integration.pipeline import audit

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
TRAINER_ABSENT = not (ROOT / "services" / "trainer" / "main.py").is_file()
CONFIG = "square8_2p"
TRAINER_FLAGS = profile("tiny").for_process("trainer")
SAMPLES_PER_CANDIDATE = int(TRAINER_FLAGS[TRAINER_FLAGS.index("--samples-per-candidate") + 1])
QUICK = {"RINGRIFT_KAFKA_SESSION_TIMEOUT_MS": "6000",
         "RINGRIFT_KAFKA_RETRY_BACKOFF_INITIAL_S": "0.05",
         "RINGRIFT_KAFKA_RETRY_BACKOFF_MAX_S": "0.5"}


@pytest.mark.skipif(TRAINER_ABSENT, reason="services/trainer is not on this branch yet: the "
                    "pipeline has no trainer, so no candidate can ever be promoted")
def test_two_promotions_through_the_services(kafka_bootstrap: str, tmp_path: Path) -> None:
    processes, missing = pipeline_processes()
    assert not missing, f"services missing: {missing}"
    settings = UpSettings(var_dir=tmp_path / "var", profile="tiny", namespace=f"e2e{uuid.uuid4().hex[:8]}",
                          bootstrap_servers=kafka_bootstrap, fixed_ports=False, grace_s=20,
                          extra_env=QUICK)
    pipeline = Pipeline(settings, echo=lambda _line: None).start()
    try:
        state = pipeline.monitor.state  # type: ignore[union-attr]
        config = state.config(CONFIG)
        wait(pipeline, "two promotions", lambda: config.promotions >= 2, 1800)
        second = config.current_model
        wait(pipeline, "a game played with the second model",
             lambda: config.games_by_model.get(second, 0) > 0, 600)
        assert pipeline.supervisor is not None
        assert pipeline.supervisor.stop_process("selfplay", timeout=120) == 0
        history = wait_for_history(pipeline, settled)
        states = promoter_states(pipeline, history)
        # Apart from the settled history: the monitor republishes its status periodically.
        feedback = read_history(pipeline.monitor.kafka, [  # type: ignore[union-attr]
            namespaced(settings, spec) for spec in (CURRICULUM_WEIGHTS, CLUSTER_STATUS)])
        exporter = pipeline.monitor.probes().processes["exporter"]  # type: ignore[union-attr]
        pending = exporter.metrics.total("ringrift_exporter_pending_games")
    finally:
        pipeline.stop()

    of = lambda spec: history.of(namespaced(settings, spec))  # noqa: E731
    games, shards = of(GAME_COMPLETED), of(SHARD_WRITTEN)
    assert audit.games_in_exactly_one_shard(games, shards) == []
    assert audit.shards_trained_on(shards, of(CANDIDATE_READY), SAMPLES_PER_CANDIDATE) == []
    assert audit.one_decision_per_candidate(of(CANDIDATE_READY), of(MODEL_LIFECYCLE),
                                            states) == []
    assert audit.current_is_last_promotion(of(MODEL_LIFECYCLE), of(MODEL_CURRENT)) == []
    assert audit.games_follow_promotions(games, of(MODEL_CURRENT), timedelta(seconds=10),
                                         [second]) == []
    assert audit.promoted_ratings_have_intervals(of(MODEL_LIFECYCLE),
                                                 of(EVALUATION_COMPLETED)) == []
    assert audit.feedback_published(feedback.of(namespaced(settings, CURRICULUM_WEIGHTS)),
                                    feedback.of(namespaced(settings, CLUSTER_STATUS)),
                                    CONFIG) == []
    assert dead_letters(settings) == {}
    assert pending == 0
    for status in pipeline.supervisor.status():
        assert (status.state, status.restarts, status.last_exit) == (STOPPED, 0, 0), status


def wait(pipeline: Pipeline, what: str, condition: Callable[[], object], timeout: float) -> None:
    """Wait for ``condition``; fail with the event log and the services' states if it does
    not come, or at once if a service failed for good."""
    deadline = time.monotonic() + timeout
    while not condition():
        statuses = pipeline.supervisor.status() if pipeline.supervisor else []
        failed = [status for status in statuses if status.state == FAILED]
        if failed or time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f} s; "
                                 f"{diagnosis(pipeline)}")
        time.sleep(1.0)


def diagnosis(pipeline: Pipeline) -> str:
    assert pipeline.monitor is not None and pipeline.supervisor is not None
    events = "\n".join(f"  {entry.at:%H:%M:%S} {entry.kind}: {entry.text}"
                       for entry in list(pipeline.monitor.state.log)[-40:])
    services = "\n".join(f"  {s.name} {s.state} restarts {s.restarts} exit {s.last_exit} "
                         f"{s.message}\n    log: ...{_tail(s.log_path)}"
                         for s in pipeline.supervisor.status())
    return f"events:\n{events}\nservices:\n{services}"


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n      ".join(text[-lines:])


def read_all(pipeline: Pipeline) -> History:
    assert pipeline.monitor is not None
    return read_history(pipeline.monitor.kafka,
                        [namespaced(pipeline.settings, spec) for spec in
                         (GAME_COMPLETED, SHARD_WRITTEN, CANDIDATE_READY, EVALUATION_COMPLETED,
                          MODEL_LIFECYCLE, MODEL_CURRENT)])


def settled(pipeline: Pipeline, history: History) -> bool:
    """Self-play stopped and everything after it done: every game in a shard, every
    candidate decided, no evaluation running, no consumer behind."""
    of = lambda spec: history.of(namespaced(pipeline.settings, spec))  # noqa: E731
    games, shards = of(GAME_COMPLETED), of(SHARD_WRITTEN)
    decided = {r.event.payload.model_id for r in of(MODEL_LIFECYCLE)
               if r.event.payload.transition in audit.DECISIONS}
    assert pipeline.monitor is not None
    lag = pipeline.monitor.consumer_lag()
    return (not audit.games_in_exactly_one_shard(games, shards)
            and all(r.event.payload.model_id in decided for r in of(CANDIDATE_READY))
            and not pipeline.monitor.state.config(CONFIG).evaluating
            and bool(lag) and not any(lag.values()))


def wait_for_history(pipeline: Pipeline, condition: Callable[[Pipeline, History], bool],
                     timeout: float = 900, quiet_s: float = 20) -> History:
    """The run's history once ``condition`` held and nothing new arrived for ``quiet_s``."""
    deadline = time.monotonic() + timeout
    since, seen = None, -1
    while True:
        history = read_all(pipeline)
        size = sum(len(events) for events in history.events.values())
        if condition(pipeline, history) and size == seen:
            if time.monotonic() - since >= quiet_s:  # type: ignore[operator]
                return history
        else:
            since, seen = time.monotonic(), size
        if time.monotonic() > deadline:
            raise AssertionError(f"the run did not settle; {diagnosis(pipeline)}")
        time.sleep(2.0)


def promoter_states(pipeline: Pipeline, history: History) -> dict[str, str]:
    """Each candidate's state in the promoter's registry, through its REST API."""
    assert pipeline.supervisor is not None and pipeline.infrastructure is not None
    url = f"http://127.0.0.1:{pipeline.supervisor.port('promoter')}/api/v1/models"
    headers = {"Authorization": f"Bearer {pipeline.infrastructure.token}"}
    states = {}
    for record in history.of(namespaced(pipeline.settings, CANDIDATE_READY)):
        model = record.event.payload.model_id
        answer = httpx.get(f"{url}/{model}", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        states[model] = answer.json()["state"]
    return states


def dead_letters(settings: UpSettings) -> dict[str, int]:
    """Records in each dead-letter topic of the run."""
    consumer = Consumer({"bootstrap.servers": settings.bootstrap_servers,
                         "group.id": f"e2e-{uuid.uuid4().hex[:8]}"})
    letters = {}
    try:
        for spec in TOPICS:
            name = namespaced(settings, spec).dlq_name
            for partition in range(spec.partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(name, partition),
                                                           timeout=10)
                if high > low:
                    letters[name] = letters.get(name, 0) + high - low
    finally:
        consumer.close()
    return letters
