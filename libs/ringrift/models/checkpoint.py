"""The one module that saves and loads every model.

A checkpoint is a single ``torch.save`` file holding the weights, their metadata
(architecture and hyper-parameters, board, player count, encoder version, policy
size, parent model, training step, data rows seen, sha256 of the weights) and,
for a run that may resume, the optimizer state. The model id is derived from
that content (never from a file name), so the same weights with the same
lineage always have the same id and a changed weight changes it.

Writes go to a temporary file beside the target and are renamed into place, so
a reader never sees half a checkpoint. Loads are read with ``weights_only=True``
(no code runs from a file) and check, in order: readability, the format marker,
the board, player count, encoder version, architecture, policy size, then the
weights' sha256 and the model id, before building the network; any difference
raises at once with what differs and what to do (:mod:`ringrift.models.errors`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from ringrift.configs import GameConfig
from ringrift.encoding.shape import EncodingShape
from ringrift.models.errors import CheckpointError, CheckpointMismatch, CorruptCheckpoint
from ringrift.models.network import ARCHITECTURE, PolicyValueNet
from ringrift.models.presets import ModelPreset
from ringrift.storage.atomic import atomic_write

FORMAT = "ringrift-checkpoint"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CheckpointMetadata:
    """What a checkpoint says about its weights; everything but ``created_at`` feeds the id."""

    model_id: str
    architecture: str
    hyperparameters: dict[str, Any]
    board_type: str
    num_players: int
    encoder_version: int
    policy_size: int
    parent_model_id: str | None
    training_step: int
    rows_seen: int
    weights_sha256: str
    created_at: str = field(default="", compare=False)

    @property
    def config(self) -> GameConfig:
        return GameConfig(self.board_type, self.num_players)

    @property
    def display_name(self) -> str:
        """A readable name that shows progress, e.g. ``square8_2p-s1200-d300000-1a2b3c4d``."""
        return (f"{self.config.key}-s{self.training_step}-d{self.rows_seen}-"
                f"{self.model_id.removeprefix('rr-')[:8]}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoadedModel:
    """A network ready for inference (``eval()`` mode) with its metadata.

    ``training_state`` is the optimizer and progress state of a resumable run, or
    None for a plain model.
    """

    model: PolicyValueNet
    metadata: CheckpointMetadata
    training_state: dict[str, Any] | None = None


def weights_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def compute_model_id(content: dict[str, Any]) -> str:
    """The id of a model: a hash of its metadata content (weights sha included)."""
    canonical = {k: v for k, v in content.items() if k not in ("model_id", "created_at")}
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return "rr-" + hashlib.sha256(blob).hexdigest()[:24]


def save_checkpoint(path: str | os.PathLike[str], model: PolicyValueNet, *,
                    encoder_version: int, parent_model_id: str | None = None,
                    training_step: int = 0, rows_seen: int = 0,
                    training_state: dict[str, Any] | None = None) -> CheckpointMetadata:
    """Write ``model`` and its metadata to ``path`` atomically.

    Args:
        path: target file; its directory is created if missing.
        model: the network (a DistributedDataParallel wrapper must be unwrapped first).
        encoder_version: the encoder version the model's inputs come from.
        parent_model_id: the model this one was trained from, if any.
        training_step: optimizer steps behind these weights, counted from scratch.
        rows_seen: training samples behind these weights, counted from scratch.
        training_state: optimizer/progress state for resuming (tensors and plain values).

    Returns:
        The metadata written, including the derived ``model_id``.
    """
    state_dict = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    content: dict[str, Any] = {
        "architecture": ARCHITECTURE,
        "hyperparameters": model.hyperparameters,
        "board_type": model.shape.board_type,
        "num_players": model.shape.num_players,
        "encoder_version": int(encoder_version),
        "policy_size": model.shape.policy_size,
        "parent_model_id": parent_model_id,
        "training_step": int(training_step),
        "rows_seen": int(rows_seen),
        "weights_sha256": weights_sha256(state_dict),
    }
    metadata = CheckpointMetadata(model_id=compute_model_id(content),
                                  created_at=datetime.now(UTC).isoformat(), **content)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION,
               "metadata": metadata.to_dict(), "state_dict": state_dict,
               "training_state": training_state}
    _atomic_save(Path(path), payload)
    return metadata


def _atomic_save(path: Path, payload: dict[str, Any]) -> None:
    with atomic_write(path) as temp:
        torch.save(payload, temp)


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; check the path or model URI")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for damaged zips and pickles
        raise CorruptCheckpoint(str(path), f"{type(error).__name__}: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CorruptCheckpoint(str(path), "not a RingRift checkpoint (no format marker)")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointMismatch(str(path), "format_version", FORMAT_VERSION,
                                 payload.get("format_version"),
                                 "load it with the code version that wrote it")
    return payload


def _parse_metadata(path: Path, raw: object) -> CheckpointMetadata:
    try:
        metadata = CheckpointMetadata(**raw)  # type: ignore[arg-type]
    except TypeError as error:
        raise CorruptCheckpoint(str(path), f"metadata malformed: {error}") from error
    return metadata


def read_metadata(path: str | os.PathLike[str]) -> CheckpointMetadata:
    """The metadata of a checkpoint, without checking it against a config.

    Raises:
        CheckpointError: missing file; CorruptCheckpoint: unreadable file.
    """
    path = Path(path)
    return _parse_metadata(path, _read_payload(path).get("metadata"))


def load_checkpoint(path: str | os.PathLike[str], *, config: GameConfig, encoder_version: int,
                    architecture: str = ARCHITECTURE, policy_size: int | None = None,
                    preset: str | None = None,
                    device: str | torch.device = "cpu") -> LoadedModel:
    """Load a checkpoint for ``config``, refusing anything that does not fit.

    Args:
        path: the checkpoint file.
        config: the board and player count the caller plays.
        encoder_version: the version of the caller's encoder.
        architecture: the architecture the caller expects.
        policy_size: the caller's policy size; when None, the one of the current encoder
            for ``config`` (only checked when ``encoder_version`` is the current one).
        preset: when set, the size preset the checkpoint must have.
        device: where to put the network.

    Raises:
        CheckpointError: the file is missing.
        CorruptCheckpoint: truncated, damaged or tampered file (weights sha, model id).
        CheckpointMismatch: another board, player count, encoder, architecture,
            policy size or preset.
    """
    path = Path(path)
    where = str(path)
    payload = _read_payload(path)
    meta = _parse_metadata(path, payload.get("metadata"))
    other = "load a checkpoint trained for this config, or start a fresh model for it"
    checks: list[tuple[str, object, object, str]] = [
        ("board_type", config.board_type, meta.board_type, other),
        ("num_players", config.num_players, meta.num_players, other),
        ("encoder_version", encoder_version, meta.encoder_version,
         "the board encoding changed since this model was trained: retrain it on data "
         "encoded with the current version, or use the code version that wrote it"),
        ("architecture", architecture, meta.architecture,
         "load it with the code version that builds that architecture"),
    ]
    for name, expected, found, fix in checks:
        if expected != found:
            raise CheckpointMismatch(where, name, expected, found, fix)
    if policy_size is None:
        from ringrift.encoding import ENCODER_VERSION, Encoder
        if encoder_version == ENCODER_VERSION:
            policy_size = Encoder.for_config(config).policy_size
    if policy_size is not None and policy_size != meta.policy_size:
        raise CheckpointMismatch(where, "policy_size", policy_size, meta.policy_size,
                                 "the move index space differs: retrain with the current encoder")
    try:
        shape = EncodingShape.from_dict(meta.hyperparameters["shape"])
        model_preset = ModelPreset(**meta.hyperparameters["preset"])
    except (KeyError, TypeError) as error:
        raise CorruptCheckpoint(where, f"hyper-parameters malformed: {error}") from error
    if preset is not None and preset != model_preset.name:
        raise CheckpointMismatch(where, "preset", preset, model_preset.name,
                                 "pass the preset the model was trained with")
    if shape.policy_size != meta.policy_size:
        raise CorruptCheckpoint(where, "policy size disagrees with the recorded shape")

    state_dict = payload.get("state_dict")
    if not isinstance(state_dict, dict):
        raise CorruptCheckpoint(where, "no weights")
    if weights_sha256(state_dict) != meta.weights_sha256:
        raise CorruptCheckpoint(where, "weights do not match their recorded sha256")
    if compute_model_id(meta.to_dict()) != meta.model_id:
        raise CorruptCheckpoint(where, "metadata does not match its model id")

    model = PolicyValueNet(shape, model_preset)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointMismatch(where, "weights", "tensors of " + ARCHITECTURE,
                                 "other tensor names or shapes",
                                 "load it with the code version that wrote it") from error
    model.to(device).eval()
    return LoadedModel(model=model, metadata=meta, training_state=payload.get("training_state"))
