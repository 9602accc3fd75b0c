"""Networks and the one model loader: presets, the residual policy-value net, checkpoints."""

from ringrift.models.checkpoint import (
    CheckpointMetadata,
    LoadedModel,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
    weights_sha256,
)
from ringrift.models.errors import CheckpointError, CheckpointMismatch, CorruptCheckpoint
from ringrift.models.network import ARCHITECTURE, PolicyValueNet, build_model
from ringrift.models.presets import DEFAULT_PRESET, PRESETS, ModelPreset, get_preset

__all__ = [
    "ARCHITECTURE", "DEFAULT_PRESET", "PRESETS", "CheckpointError", "CheckpointMetadata",
    "CheckpointMismatch", "CorruptCheckpoint", "LoadedModel", "ModelPreset", "PolicyValueNet",
    "build_model", "get_preset", "load_checkpoint", "read_metadata", "save_checkpoint",
    "weights_sha256",
]
