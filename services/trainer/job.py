"""The training job: one run, from its window and parent to one published candidate.

The backbone runs it on a worker thread (:mod:`ringrift.events.jobs`) while the run's
partition waits. In order:

1. Before the run starts, wait while the cluster monitor defers training
   (:class:`ringrift.service.cluster.ClusterView`; a run in progress is not interrupted, as
   the view's contract says: a node in trouble hands its work over through job routing).
2. On the first start, fix the run's settings (the batch size the monitor recommends for
   this node's GPU, kept within ``--min-batch-size``/``--max-batch-size``) in the job's
   checkpoint; a resumed start reads them back, since the library resumes a run only with
   the same settings, window and output path.
3. Fetch the parent and the window's shards from the artifact store (sha256-verified); a
   shard missing or damaged there, or unreadable when its rows are converted, is marked
   unusable and the window chosen again without it.
4. Train with :func:`ringrift.training.trainer.train` into ``<work-dir>/runs/<config>/<run
   id>.pt``: it checkpoints every ``--checkpoint-every`` steps, so after a kill the job,
   resumed by the backbone, continues from the last checkpoint (its step count goes on).
   Cancellation (SIGTERM, partitions handed over) checkpoints and stops.
5. Put the weights (without the optimizer state) into the store and return the
   ``CandidateReady``; the run's row is updated in the transaction that ends the job, with
   the output in the outbox, so a run publishes at most one candidate.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from sqlalchemy import Engine

from ringrift.configs import GameConfig
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import follow_up
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef as ArtifactRefMessage
from ringrift.events.gen.model.v1.model_pb2 import CandidateReady
from ringrift.events.jobs import JobContext, Output
from ringrift.events.topics import CANDIDATE_READY
from ringrift.models.errors import CheckpointError
from ringrift.service.cluster import TRAINING, ClusterView
from ringrift.storage.artifacts import ArtifactStore
from ringrift.training.errors import ShardError, ShardMismatch
from ringrift.training.settings import TrainSettings
from ringrift.training.trainer import TrainProgress, TrainResult, train
from ringrift.training.window import WindowShard
from services.trainer import metrics, runs
from services.trainer.fetch import fetch_parent, fetch_window, weights_only
from services.trainer.settings import TrainerSettings
from services.trainer.tables import RunState

log = logging.getLogger(__name__)
DEFERRAL_POLL_S = 0.5
"""How often a deferred run looks at the cluster status again."""


class TrainJob:
    """The job function of kind ``train`` (see the module's docstring).

    Args:
        engine: the trainer's database.
        settings: the trainer's settings.
        store: where candidates' weights are put.
        cluster: this node's view of the cluster status (deferral, batch size).
    """

    def __init__(self, engine: Engine, settings: TrainerSettings, store: ArtifactStore,
                 cluster: ClusterView) -> None:
        self.engine = engine
        self.settings = settings
        self.store = store
        self.cluster = cluster
        self.work_dir = Path(settings.work_dir).absolute()
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)

    def __call__(self, context: JobContext) -> list[Output]:
        run = runs.load(self.engine, context.job_id)
        config = GameConfig.parse(run.config_key)
        output = self.work_dir / "runs" / run.config_key / f"{run.run_id}.pt"
        self._wait_while_deferred(context, run)
        train_settings = self._settings(context, run, output)
        began = time.monotonic()
        _prune_other_runs(output)
        parent = fetch_parent(run)
        while True:
            run, window = fetch_window(self.engine, run, self.settings.window_rule(),
                                       context.check_cancelled)
            try:
                result = self._train(context, run, config, train_settings, window, parent,
                                     output, began)
            except (ShardError, ShardMismatch) as error:  # found while converting its rows
                run = runs.drop_shard(self.engine, run, _shard_of(window, error.path), str(error),
                                      self.settings.window_rule())
                output.unlink(missing_ok=True)  # another window: the run starts over
                continue
            if not result.completed:  # should_stop ends a run early only when cancelled
                context.check_cancelled()
            return [self._publish(context, run, config, result)]

    # ---- steps --------------------------------------------------------------------------

    def _wait_while_deferred(self, context: JobContext, run: runs.RunView) -> None:
        reason = self.cluster.deferral_reason(TRAINING)
        if reason is None:
            return
        log.info("run %d of %s waits: %s", run.number, run.config_key, reason)
        runs.note(self.engine, run.run_id, state=RunState.DEFERRED)
        metrics.DEFERRED.labels(run.config_key).set(1)
        context.report_progress(context.progress, f"deferred: {reason}")
        try:
            while reason is not None:
                context.check_cancelled()
                time.sleep(DEFERRAL_POLL_S)
                reason = self.cluster.deferral_reason(TRAINING)
        finally:
            metrics.DEFERRED.labels(run.config_key).set(0)
        log.info("run %d of %s: the cluster status no longer defers training", run.number,
                 run.config_key)

    def _settings(self, context: JobContext, run: runs.RunView, output: Path) -> TrainSettings:
        """The run's settings: fixed at its first start, read back from the job's checkpoint."""
        saved = context.load_checkpoint()
        if saved is not None:
            train_settings = TrainSettings(**json.loads(saved)["settings"])
            runs.note(self.engine, run.run_id, state=RunState.TRAINING)
            return train_settings
        batch = self.settings.batch_size_for(
            self.cluster.recommended_batch_size(self.settings.batch_size))
        train_settings = self.settings.run_settings(batch, run.number)
        output.unlink(missing_ok=True)  # left by a run recorded before a database restore
        context.save_checkpoint(json.dumps({"settings": asdict(train_settings)}).encode())
        now = datetime.now(UTC)
        metrics.TRIGGER_LATENCY.labels(run.config_key).observe(
            max(0.0, (now - run.trigger_published_at).total_seconds()))
        metrics.BATCH_SIZE.labels(run.config_key).set(batch)
        runs.note(self.engine, run.run_id, state=RunState.TRAINING, started_at=now,
                  batch_size=batch, steps=train_settings.steps)
        return train_settings

    def _train(self, context: JobContext, run: runs.RunView, config: GameConfig,
               settings: TrainSettings, window: list[WindowShard], parent: Path | None,
               output: Path, began: float) -> TrainResult:
        key, first = run.config_key, True

        def on_progress(progress: TrainProgress) -> None:
            nonlocal first
            if first:
                first = False
                runs.add_start_step(self.engine, run.run_id, progress.step - 1)
                metrics.PREPARATION.labels(key).observe(time.monotonic() - began)
            context.report_progress(progress.step / progress.total_steps, (
                f"step {progress.step}/{progress.total_steps}: policy loss "
                f"{progress.policy_loss:.3f}, value loss {progress.value_loss:.3f}, "
                f"{progress.samples_per_second:.0f} samples/s"))
            metrics.SAMPLES_PER_SECOND.labels(key).set(progress.samples_per_second)
            metrics.SAMPLES_TRAINED.labels(key).inc(settings.batch_size)

        try:
            return train(window, output, config=config, settings=settings, init=parent,
                         preset=self.settings.preset or None,
                         device=None if self.settings.device == "auto" else self.settings.device,
                         cache_dir=self.work_dir / "window-cache",
                         should_stop=lambda: context.cancelled, on_progress=on_progress)
        except CheckpointError as error:
            if isinstance(error, PoisonMessage):
                raise
            raise PoisonMessage(f"run {run.number} of {key} cannot start from its parent "
                                f"{run.parent_model_id}: {error}") from error

    def _publish(self, context: JobContext, run: runs.RunView, config: GameConfig,
                 result: TrainResult) -> Output:
        weights = self.store.put_file(weights_only(result, config))
        key, seconds = run.config_key, result.train_seconds
        candidate = CandidateReady(
            model_id=result.model_id, config_key=key,
            weights=ArtifactRefMessage(uri=weights.uri, sha256=weights.sha256,
                                       size_bytes=weights.size),
            parent_model_id=result.metadata.parent_model_id or "",
            architecture=result.architecture, encoder_version=result.metadata.encoder_version,
            train_step=result.train_step, samples_seen=result.samples_seen,
            losses=result.losses, shard_ids=result.shard_ids)

        def effect(session: Any) -> None:
            runs.record_candidate(session, run.run_id, result, weights)
            metrics.after_commit(session, lambda: (
                metrics.CANDIDATES.labels(key).inc(),
                metrics.CANDIDATE_SECONDS.labels(key).observe(seconds)))
        context.add_effect(effect)
        log.info("run %d of %s: candidate %s (%d steps, %.0f s of training)", run.number, key,
                 result.model_id, result.train_step, seconds)
        return CANDIDATE_READY, follow_up(context.event, candidate, producer="trainer")


def _shard_of(window: list[WindowShard], path: str) -> str:
    for shard in window:
        if str(shard.path) == path:
            return str(shard.shard_id)
    raise PoisonMessage(f"an unreadable shard file {path} is not in the window")


def _prune_other_runs(output: Path) -> None:
    """Delete the files of the config's earlier runs (their candidates are in the store)."""
    if output.parent.is_dir():
        for path in output.parent.iterdir():
            if not path.name.startswith(output.stem):
                path.unlink(missing_ok=True)

