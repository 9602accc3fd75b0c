"""The one model loader: round trip, content-derived ids, and every refusal.

Checks: a saved tiny network loads back with identical outputs and metadata; the
model id depends on content (weights, lineage) and not on the file name; atomic
writes leave no temporary file; loading refuses, with a ``CheckpointMismatch``
naming the field, another board, player count, encoder version, architecture,
policy size or preset; and a truncated, bit-flipped or foreign file raises
``CorruptCheckpoint``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION
from ringrift.errors import PoisonMessage, RingriftError
from ringrift.models import (
    CheckpointError,
    CheckpointMismatch,
    CorruptCheckpoint,
    build_model,
    load_checkpoint,
    read_metadata,
    save_checkpoint,
)

SQUARE8 = GameConfig("square8", 2)


def _saved(tmp_path: Path, name: str = "model.pt", seed: int = 0, **kwargs: object) -> Path:
    torch.manual_seed(seed)
    path = tmp_path / name
    save_checkpoint(path, build_model(SQUARE8, "tiny"), encoder_version=ENCODER_VERSION,
                    **kwargs)  # type: ignore[arg-type]
    return path


def test_round_trip_keeps_weights_outputs_and_metadata(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = build_model(SQUARE8, "tiny").eval()
    path = tmp_path / "m.pt"
    meta = save_checkpoint(path, model, encoder_version=ENCODER_VERSION,
                           parent_model_id="rr-parent", training_step=7, rows_seen=900)
    loaded = load_checkpoint(path, config=SQUARE8, encoder_version=ENCODER_VERSION)
    assert loaded.metadata == meta
    assert (meta.board_type, meta.num_players, meta.training_step, meta.rows_seen) == (
        "square8", 2, 7, 900)
    assert meta.parent_model_id == "rr-parent"
    assert meta.hyperparameters["preset"]["name"] == "tiny"
    planes = torch.randn(3, model.shape.in_channels, 8, 8)
    globals_ = torch.randn(3, model.shape.num_globals)
    with torch.no_grad():
        expected = model(planes, globals_)
        got = loaded.model(planes, globals_)
    assert torch.equal(expected[0], got[0]) and torch.equal(expected[1], got[1])
    assert got[0].shape == (3, meta.policy_size) and got[1].shape == (3, 2)
    assert float(got[1].abs().max()) <= 1.0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_model_id_comes_from_content_not_file_name(tmp_path: Path) -> None:
    a = read_metadata(_saved(tmp_path, "a.pt"))
    b = read_metadata(_saved(tmp_path, "b.pt"))
    other_weights = read_metadata(_saved(tmp_path, "c.pt", seed=5))
    other_step = read_metadata(_saved(tmp_path, "d.pt", training_step=3))
    assert a.model_id == b.model_id
    assert len({a.model_id, other_weights.model_id, other_step.model_id}) == 3
    assert a.display_name.startswith("square8_2p-s0-d0-")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"config": GameConfig("square19", 2)}, "board_type"),
    ({"config": GameConfig("square8", 3)}, "num_players"),
    ({"encoder_version": ENCODER_VERSION + 1}, "encoder_version"),
    ({"architecture": "transformer_pv"}, "architecture"),
    ({"policy_size": 12}, "policy_size"),
    ({"preset": "large"}, "preset"),
])
def test_mismatch_is_refused_naming_the_field(tmp_path: Path, kwargs: dict[str, object],
                                              field: str) -> None:
    path = _saved(tmp_path)
    args: dict[str, object] = {"config": SQUARE8, "encoder_version": ENCODER_VERSION, **kwargs}
    with pytest.raises(CheckpointMismatch) as caught:
        load_checkpoint(path, **args)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field in str(caught.value) and str(path) in str(caught.value)
    assert isinstance(caught.value, RingriftError)


def test_truncated_file_is_corrupt(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptCheckpoint) as caught:
        load_checkpoint(path, config=SQUARE8, encoder_version=ENCODER_VERSION)
    assert isinstance(caught.value, PoisonMessage)


def test_changed_weight_fails_the_sha_check(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["stem.weight"][0, 0, 0, 0] += 1.0
    torch.save(payload, path)
    with pytest.raises(CorruptCheckpoint, match="sha256"):
        load_checkpoint(path, config=SQUARE8, encoder_version=ENCODER_VERSION)


def test_edited_metadata_fails_the_model_id_check(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["metadata"]["rows_seen"] = 10**9
    torch.save(payload, path)
    with pytest.raises(CorruptCheckpoint, match="model id"):
        load_checkpoint(path, config=SQUARE8, encoder_version=ENCODER_VERSION)


def test_foreign_and_missing_files(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CorruptCheckpoint, match="not a RingRift checkpoint"):
        load_checkpoint(foreign, config=SQUARE8, encoder_version=ENCODER_VERSION)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(CorruptCheckpoint):
        load_checkpoint(garbage, config=SQUARE8, encoder_version=ENCODER_VERSION)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt", config=SQUARE8, encoder_version=ENCODER_VERSION)
