"""Artifacts in and out of a run: the parent and the window from the store, the weights back.

Everything a run reads comes from the content-addressed store by the URI and sha256 that
an event named, through the store that URI belongs to (``store_for_uri``: a directory or
S3), checked against its sha256 before use. An artifact that is missing or does not hash
to its address never becomes readable by retrying: a shard like that is dropped from the
window (:func:`services.trainer.runs.drop_shard`), a parent like that fails the run
(the triggering event is dead-lettered with the reason). A store that does not answer is an
outage (``ArtifactStoreUnavailable``): the backbone retries the job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import PoisonMessage
from ringrift.models.checkpoint import load_checkpoint, save_checkpoint
from ringrift.storage.artifacts import store_for_uri
from ringrift.storage.errors import ArtifactError, ArtifactStoreUnavailable
from ringrift.training.trainer import TrainResult
from ringrift.training.window import WindowShard
from ringrift.training.window_size import WindowRule
from services.trainer import runs


def local_artifact(uri: str, sha256: str) -> Path:
    """A verified local file of the artifact ``uri``.

    Raises:
        ArtifactStoreUnavailable: the store did not answer (retried).
        ArtifactError: missing, damaged, or not an artifact URI (permanent).
    """
    return store_for_uri(uri).local_path(uri, sha256)


def fetch_parent(run: runs.RunView) -> Path | None:
    """The run's parent checkpoint as a local file, or None for fresh weights.

    Raises:
        PoisonMessage: the parent's artifact is missing or damaged.
    """
    if run.parent_uri is None or run.parent_sha256 is None:
        return None
    try:
        return local_artifact(run.parent_uri, run.parent_sha256)
    except ArtifactStoreUnavailable:
        raise
    except ArtifactError as error:
        raise PoisonMessage(f"run {run.number} of {run.config_key} cannot read its parent "
                            f"{run.parent_model_id} at {run.parent_uri}: {error}") from error


def fetch_window(engine: Engine, run: runs.RunView, rule: WindowRule,
                 check_cancelled: Callable[[], None]) -> tuple[runs.RunView, list[WindowShard]]:
    """The run's window as local, verified shard files, dropping those the store lacks.

    Returns:
        The run (with its window chosen again if a shard was dropped) and its shards.

    Raises:
        PoisonMessage: after dropping shards, too few rows are left for a window.
        JobCancelled: the job was cancelled meanwhile (``check_cancelled``).
    """
    while True:
        window: list[WindowShard] = []
        for shard in runs.window_files(engine, run):
            check_cancelled()
            try:
                path = local_artifact(shard.uri, shard.sha256)
            except ArtifactStoreUnavailable:
                raise
            except ArtifactError as error:
                run = runs.drop_shard(engine, run, shard.shard_id, str(error), rule)
                break
            window.append(WindowShard(path, shard_id=shard.shard_id, sha256=shard.sha256))
        else:
            return run, window


def weights_only(result: TrainResult, config: GameConfig) -> Path:
    """A copy of the run's final checkpoint without its optimizer state, for the store.

    The model id is derived from the weights and their metadata, so the copy has the id of
    the run's checkpoint; evaluators and self-play load only the weights.
    """
    trained = load_checkpoint(result.checkpoint, config=config, encoder_version=ENCODER_VERSION)
    meta = trained.metadata
    path = result.checkpoint.with_name(result.checkpoint.stem + ".weights.pt")
    copy = save_checkpoint(path, trained.model, encoder_version=meta.encoder_version,
                           parent_model_id=meta.parent_model_id,
                           training_step=meta.training_step, rows_seen=meta.rows_seen)
    if copy.model_id != meta.model_id:
        raise RuntimeError(f"the weights copy of {meta.model_id} got the id {copy.model_id}")
    return path
