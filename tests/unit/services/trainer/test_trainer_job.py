"""The training job run directly (no broker): real shards in a real store, tiny real training.

Checks: a job trains its run's window and returns one ``CandidateReady`` whose weights load
with the library's loader (without optimizer state) and whose counts, shards and losses are
the run's; the job's end records the candidate on the run; the run's settings are fixed at
its first start (batch size from the cluster status) and kept when it resumes under another
recommendation; a shard missing from the store is dropped and the window chosen again; a
deferred run waits without training until the cluster status clears; a damaged parent
fails the run as poison.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch
from sqlalchemy import select

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import new_event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, Pressure
from ringrift.events.jobs import JobCancelled, JobContext, JobRow
from ringrift.events.topics import CANDIDATE_READY
from ringrift.models import load_checkpoint
from ringrift.service.cluster import ClusterView
from ringrift.storage.artifact_index import find_artifact
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import session_scope
from services.trainer import handlers
from services.trainer.job import TrainJob
from services.trainer.tables import Run, RunState, Shard
from tests.utils.trainer_shards import stored_shard

SQUARE8 = GameConfig("square8", 2)
torch.set_num_threads(1)  # two shared cores: tiny convolutions run faster on one thread


NODE = "node-1"


class Cluster:
    """The cluster monitor's latest status, as this node's view reads it (a table reader's
    latest value in the service)."""

    def __init__(self, **fields) -> None:
        self.event = None
        self.view = ClusterView(lambda: self.event, NODE)
        if fields:
            self.publish(**fields)

    def publish(self, *, defer=(), batch_size: int = 0) -> None:
        status = ClusterStatus(defer=list(defer), refresh_seconds=3600, nodes=[
            NodeHealth(node_id=NODE, level=Pressure.PRESSURE_OK, healthy=True,
                       recommended_batch_size=batch_size)])
        status.updated_at.GetCurrentTime()
        self.event = new_event(status, config_key="all", producer="cluster-monitor")


@pytest.fixture
def engine(sqlite_engine):
    """SQLite only here: these tests train; the handlers' queries run on both backends."""
    return sqlite_engine


@pytest.fixture
def store(tmp_path) -> DirectoryArtifactStore:
    return DirectoryArtifactStore(tmp_path / "artifacts")


def record(engine, settings, store, tmp_path, shards) -> list:
    """Store and record shards ``(id, samples)``; the events of those that triggered a run."""
    triggers = []
    for shard_id, samples in shards:
        shard = stored_shard(store, tmp_path, SQUARE8, shard_id, samples)
        with session_scope(engine) as session:
            if handlers.TrainerHandler(settings, lambda _key: None)(shard.event, session):
                triggers.append(shard.event)
    return triggers


def context(engine, event, checkpoint: bytes | None = None,
            cancelled: threading.Event | None = None) -> tuple[JobContext, list[bytes]]:
    with session_scope(engine, read_only=True) as session:
        run = session.scalars(select(Run).where(Run.trigger_shard_id == event.payload.shard_id)
                              ).one()
    saved: list[bytes] = []
    row = JobRow(job_id=run.run_id, kind=handlers.TRAIN_JOB, params={}, checkpoint=checkpoint,
                 progress=None, message=None)
    return JobContext(row, event, attempt=1, save=saved.append,
                      cancelled=cancelled or threading.Event()), saved


def finish(engine, ctx: JobContext) -> None:
    """What the backbone does when the job returns: its effects in one transaction."""
    with session_scope(engine) as session:
        for effect in ctx.effects:
            effect(session)


def the_run(engine) -> Run:
    with session_scope(engine, read_only=True) as session:
        return session.scalars(select(Run)).one()


def test_a_job_trains_its_window_and_returns_one_candidate(engine, make_settings, store,
                                                           tmp_path):
    settings = make_settings(torch_threads=1)
    [trigger] = record(engine, settings, store, tmp_path, [("s1", 60), ("s2", 60)])
    ctx, saved = context(engine, trigger)
    outputs = TrainJob(engine, settings, store, Cluster().view)(ctx)
    [(topic, event)] = outputs
    candidate = event.payload
    assert topic == CANDIDATE_READY and event.causation_id == trigger.event_id
    assert list(candidate.shard_ids) == ["s2", "s1"]
    assert (candidate.train_step, candidate.samples_seen) == (4, 64)  # 64 samples, batch 16
    assert candidate.architecture == "resnet_pv-tiny" and candidate.parent_model_id == ""
    assert candidate.encoder_version == ENCODER_VERSION
    assert set(candidate.losses) == {"policy", "value"}
    loaded = load_checkpoint(store.local_path(candidate.weights.uri, candidate.weights.sha256),
                             config=SQUARE8, encoder_version=ENCODER_VERSION)
    assert loaded.metadata.model_id == candidate.model_id and loaded.training_state is None
    assert json.loads(saved[0])["settings"]["batch_size"] == 16
    assert the_run(engine).state == RunState.TRAINING and the_run(engine).start_steps == [0]
    finish(engine, ctx)
    run = the_run(engine)
    assert (run.state, run.model_id, run.train_step) == (RunState.PUBLISHED, candidate.model_id, 4)
    assert run.train_seconds > 0 and run.weights_sha256 == candidate.weights.sha256
    with session_scope(engine, read_only=True) as session:
        assert find_artifact(session, candidate.weights.sha256) is not None


def test_settings_are_fixed_at_the_first_start_and_kept_on_resume(engine, make_settings, store,
                                                                   tmp_path):
    settings = make_settings(torch_threads=1)
    [trigger] = record(engine, settings, store, tmp_path, [("s1", 120)])
    cluster = Cluster(batch_size=32)
    cancelled = threading.Event()
    cancelled.set()  # a SIGTERM right after the start: the settings are saved already
    first, saved = context(engine, trigger, cancelled=cancelled)
    with pytest.raises(JobCancelled):
        TrainJob(engine, settings, store, cluster.view)(first)
    assert json.loads(saved[0])["settings"]["batch_size"] == 32
    cluster.publish(batch_size=256)
    again, _ = context(engine, trigger, checkpoint=saved[0])
    [(_, event)] = TrainJob(engine, settings, store, cluster.view)(again)
    assert (event.payload.train_step, event.payload.samples_seen) == (2, 64)
    assert the_run(engine).batch_size == 32


def test_a_shard_missing_from_the_store_is_dropped(engine, make_settings, store, tmp_path):
    settings = make_settings(torch_threads=1, samples_per_candidate=200)
    [trigger] = record(engine, settings, store, tmp_path, [("s1", 100), ("s2", 30), ("s3", 80)])
    with session_scope(engine, read_only=True) as session:
        lost = session.scalars(select(Shard).where(Shard.shard_id == "s3")).one()
    store.path_for(lost.sha256).unlink()
    ctx, _ = context(engine, trigger)
    [(_, event)] = TrainJob(engine, settings, store, Cluster().view)(ctx)
    assert list(event.payload.shard_ids) == ["s2", "s1"]
    assert the_run(engine).shard_ids == ["s2", "s1"]
    with session_scope(engine, read_only=True) as session:
        assert "no artifact" in session.scalars(select(Shard.unusable)
                                                .where(Shard.shard_id == "s3")).one()


def test_a_deferred_run_waits_until_the_cluster_status_clears(engine, make_settings, store,
                                                              tmp_path):
    settings = make_settings(torch_threads=1)
    [trigger] = record(engine, settings, store, tmp_path, [("s1", 120)])
    cluster = Cluster(defer=["selfplay", "training"])
    job = TrainJob(engine, settings, store, cluster.view)
    ctx, saved = context(engine, trigger)
    outputs: list = []
    worker = threading.Thread(target=lambda: outputs.extend(job(ctx)))
    worker.start()
    deadline = time.monotonic() + 120
    while the_run(engine).state != RunState.DEFERRED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert the_run(engine).state == RunState.DEFERRED
    assert ctx.message == "deferred: training: deferred by the cluster monitor"
    time.sleep(1.0)
    assert worker.is_alive() and saved == [] and outputs == []
    cluster.publish(defer=["selfplay"])
    worker.join(300)
    assert not worker.is_alive() and len(outputs) == 1
    assert the_run(engine).start_steps == [0]


def test_a_damaged_parent_fails_the_run_as_poison(engine, make_settings, store, tmp_path):
    settings = make_settings(torch_threads=1)
    [trigger] = record(engine, settings, store, tmp_path, [("s1", 120)])
    ref = store.put_bytes(b"not a checkpoint")
    with session_scope(engine) as session:
        run = session.scalars(select(Run)).one()
        run.parent_model_id, run.parent_uri, run.parent_sha256 = "rr-bad", ref.uri, "00" * 32
    ctx, _ = context(engine, trigger)
    with pytest.raises(PoisonMessage, match="cannot read its parent rr-bad"):
        TrainJob(engine, settings, store, Cluster().view)(ctx)
