"""The trainer as a process (``ringrift service run trainer``) against the real broker.

Checks: no candidate before the sample threshold, one as soon as the shard that reaches it
arrives, whose weights load with the library's loader and which names exactly the shards
of its window; a rejection from the evaluator spends that window (the next candidate is
trained on fresh shards only, from the rejected candidate's weights) and its training
seconds are counted; with ``--max-unevaluated 1`` a due run waits for the evaluation of the
previous candidate, which starts it (a job started from an ``EvaluationCompleted``); a SIGKILL in the middle of training and a restart resume the run from
its checkpoint (its step count continues) and publish exactly one candidate; training waits
while the cluster status defers it and takes the recommended batch size once it clears;
malformed and wrong-config events on both consumed topics are dead-lettered with the reason
while the trainer goes on; ``/readyz`` turns ready only once the table readers caught up;
``--help``, ``/healthz`` and ``/metrics`` answer.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ringrift.encoding import ENCODER_VERSION
from ringrift.events.envelope import new_event
from ringrift.events.gen.model.v1.model_pb2 import EvaluationCompleted, GateDecision
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, Pressure
from ringrift.events.producer import EventProducer
from ringrift.events.replay import list_dead_letters
from ringrift.events.topics import (
    CANDIDATE_READY,
    CLUSTER_STATUS,
    EVALUATION_COMPLETED,
    SHARD_WRITTEN,
    TOPICS,
)
from ringrift.models import load_checkpoint, read_metadata
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until
from tests.integration.services.trainer.conftest import SQUARE8, Trainer, scrape
from tests.utils.trainer_shards import shard_event

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
LABELS = (("config", "square8_2p"),)


def rejection(model_id: str):
    payload = EvaluationCompleted(evaluation_id=f"ev-{model_id}", model_id=model_id,
                                  config_key=SQUARE8.key,
                                  gate=GateDecision(passed=False, verdict="fail"))
    return new_event(payload, config_key=SQUARE8.key, producer="evaluator")


def test_candidates_follow_the_threshold_and_a_rejection_spends_its_window(
        trainer: Trainer) -> None:
    service = trainer.start()
    service.wait_for("/readyz", 200)
    trainer.publish_shards(("s1", 60))
    wait_until(lambda: trainer.shard_ids() == ["s1"], 120, "the first shard recorded")
    assert trainer.runs() == []  # 60 of 100 samples: no run yet
    trainer.publish_shards(("s2", 60))
    [first] = trainer.env.read(CANDIDATE_READY, 1)
    candidate = first.payload
    assert list(candidate.shard_ids) == ["s2", "s1"] and candidate.parent_model_id == ""
    weights = trainer.store.local_path(candidate.weights.uri, candidate.weights.sha256)
    loaded = load_checkpoint(weights, config=SQUARE8, encoder_version=ENCODER_VERSION)
    assert loaded.metadata.model_id == candidate.model_id
    assert (candidate.train_step, candidate.samples_seen) == (4, 64)
    metrics = scrape(service)
    assert metrics[("ringrift_trainer_candidates_total", LABELS)] == 1
    assert metrics[("ringrift_trainer_trigger_latency_seconds_count", LABELS)] == 1
    assert metrics[("ringrift_trainer_window_rows", LABELS)] == 120

    trainer.env.publish(EVALUATION_COMPLETED, [rejection(candidate.model_id)])
    wait_until(lambda: trainer.runs()[0].verdict == "rejected", 120, "the rejection recorded")
    assert scrape(service)[("ringrift_trainer_rejected_training_seconds_total", LABELS)] > 0
    trainer.publish_shards(("s3", 60), ("s4", 50))
    candidates = trainer.env.read(CANDIDATE_READY, 2)
    assert len(candidates) == 2
    second = candidates[1].payload
    assert list(second.shard_ids) == ["s4", "s3"]  # none of the rejected candidate's shards
    assert second.parent_model_id == candidate.model_id
    assert trainer.runs()[1].parent_model_id == candidate.model_id
    service.terminate()
    assert service.wait() == 0, service.log()


def test_max_unevaluated_holds_the_next_run_until_the_evaluation(trainer: Trainer) -> None:
    service = trainer.start("--max-unevaluated", "1")
    service.wait_for("/readyz", 200)
    trainer.publish_shards(("s1", 100))
    [first] = trainer.env.read(CANDIDATE_READY, 1)
    trainer.publish_shards(("s2", 60), ("s3", 60))
    wait_until(lambda: trainer.shard_ids() == ["s1", "s2", "s3"], 120, "the shards recorded")
    assert len(trainer.runs()) == 1  # due (120 new samples), but the first candidate awaits its evaluation
    trainer.env.publish(EVALUATION_COMPLETED, [rejection(first.payload.model_id)])
    candidates = trainer.env.read(CANDIDATE_READY, 2, timeout=300)
    assert len(candidates) == 2
    assert list(candidates[1].payload.shard_ids) == ["s3", "s2"]
    assert trainer.runs()[1].trigger_shard_id == "s3"
    service.terminate()
    assert service.wait() == 0, service.log()


def test_killed_mid_training_it_resumes_from_the_checkpoint(trainer: Trainer) -> None:
    flags = ("--train-samples", str(16 * 600), "--checkpoint-every", "25")
    first = trainer.start(*flags, RINGRIFT_KAFKA_JOB_LEASE_S="3")
    trainer.publish_shards(("s1", 120))
    wait_until(lambda: len(trainer.runs()) == 1, 180, "the run triggered")
    output = trainer.work_dir / "runs" / SQUARE8.key / f"{trainer.runs()[0].run_id}.pt"

    def checkpointed() -> bool:
        try:
            return read_metadata(output).training_step >= 25
        except Exception:  # not written yet
            return False
    wait_until(checkpointed, 300, "a checkpoint of the run")
    first.process.kill()  # SIGKILL in the middle of training
    first.wait()
    reached = read_metadata(output).training_step
    assert 25 <= reached < 600, "killed too late to see a resume"
    again = trainer.start(*flags, RINGRIFT_KAFKA_JOB_LEASE_S="3")
    candidates = trainer.env.read(CANDIDATE_READY, 1, timeout=600, settle_s=3)
    assert len(candidates) == 1
    assert candidates[0].payload.train_step == 600
    [run] = trainer.runs()
    assert run.start_steps[0] == 0 and run.start_steps[1] >= reached
    assert run.start_steps[1] % 25 == 0 and run.state == "published"
    again.terminate()
    assert again.wait() == 0, again.log()
    assert len(trainer.env.read(CANDIDATE_READY, 1, settle_s=2)) == 1


def cluster_status(*defer: str, batch_size: int = 32):
    """The monitor's status: this trainer's node healthy, its GPU good for ``batch_size``."""
    status = ClusterStatus(defer=list(defer), refresh_seconds=3600, nodes=[NodeHealth(
        node_id="trainer-node", healthy=True, level=Pressure.PRESSURE_OK,
        recommended_batch_size=batch_size)], reasons=[f"{work}: disk full" for work in defer])
    status.updated_at.GetCurrentTime()
    return new_event(status, config_key="all", producer="cluster-monitor")


def test_training_waits_while_the_cluster_status_defers_it(trainer: Trainer) -> None:
    env = trainer.env
    env.publish(CLUSTER_STATUS, [cluster_status("training")])
    service = trainer.start(RINGRIFT_NODE_ID="trainer-node")
    service.wait_for("/readyz", 200)
    trainer.publish_shards(("s1", 120))
    wait_until(lambda: [run.state for run in trainer.runs()] == ["deferred"], 180,
               "the run deferred")
    wait_until(lambda: "deferred: training: disk full" in trainer.status(), 180,
               "the deferral in `ringrift trainer status`")
    assert scrape(service)[("ringrift_trainer_deferred_runs", LABELS)] == 1
    assert env.read(CANDIDATE_READY, 0, timeout=5) == []
    env.publish(CLUSTER_STATUS, [cluster_status()])
    [candidate] = env.read(CANDIDATE_READY, 1, timeout=300)
    assert (candidate.payload.train_step, candidate.payload.samples_seen) == (2, 64)
    assert trainer.runs()[0].batch_size == 32
    assert scrape(service)[("ringrift_trainer_deferred_runs", LABELS)] == 0
    service.terminate()
    assert service.wait() == 0, service.log()


def test_bad_events_are_dead_lettered_and_the_trainer_goes_on(trainer: Trainer) -> None:
    env = trainer.env
    service = trainer.start()
    service.wait_for("/readyz", 200)
    shards = env.topic(SHARD_WRITTEN)
    with EventProducer(env.kafka, client_id="test-garbage") as producer:
        producer.produce_raw(shards.name, SQUARE8.key, b"\x00not an envelope", partition=0)
        producer.flush()
    env.publish(SHARD_WRITTEN, [shard_event("chess_2p", "bad-config", 10),
                                shard_event(SQUARE8.key, "mismatch", 10,
                                            envelope_config="hex8_2p"),
                                shard_event(SQUARE8.key, "old", 10, encoder_version=999)])
    bad = rejection("rr-x")
    bad.payload.config_key = "chess_2p"
    env.publish(EVALUATION_COMPLETED, [bad])
    trainer.publish_shards(("good", 10))
    wait_until(lambda: trainer.shard_ids() == ["good"], 180, "the good shard recorded")

    def reasons(spec) -> list[str]:
        return sorted(letter.context["dlq.error.message"]
                      for letter in list_dead_letters(env.kafka, env.topic(spec).name))
    wait_until(lambda: len(reasons(SHARD_WRITTEN)) == 4, 120, "four dead shard events")
    shard_reasons = " | ".join(reasons(SHARD_WRITTEN))
    for expected in ("not a ringrift.events.v1.Envelope", "'chess_2p', which is not one of",
                     "differs from the payload", "encoder version 999"):
        assert expected in shard_reasons
    wait_until(lambda: len(reasons(EVALUATION_COMPLETED)) == 1, 120, "a dead evaluation")
    assert "'chess_2p', which is not one of" in reasons(EVALUATION_COMPLETED)[0]
    assert service.get("/healthz").status_code == 200
    service.terminate()
    assert service.wait() == 0, service.log()


def test_ready_only_once_its_tables_caught_up(bare_service_env: ServiceEnv) -> None:
    env = bare_service_env
    env.create([spec for spec in TOPICS if spec is not CLUSTER_STATUS])
    trainer = Trainer(env)
    service = trainer.start("--configs", SQUARE8.key)
    waiting = service.wait_for("/readyz", 503).json()["checks"]
    assert "does not exist" in waiting["tables"], waiting
    assert service.get("/healthz").status_code == 200
    env.create([CLUSTER_STATUS])
    ready = service.wait_for("/readyz", 200).json()["checks"]
    assert set(ready.values()) == {"ok"}
    assert scrape(service)[("ringrift_trainer_candidates_total", LABELS)] == 0
    service.terminate()
    assert service.wait() == 0, service.log()
    help_text = subprocess.run(
        [sys.executable, "-m", "ringrift.cli.main", "service", "run", "trainer", "--help"],
        capture_output=True, text=True, timeout=300, check=True).stdout
    for flag in ("--samples-per-candidate", "--start-from", "--window-min-rows",
                 "--max-batch-size", "--checkpoint-every", "--work-dir"):
        assert flag in help_text
