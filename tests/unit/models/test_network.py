"""The network: output shapes per board and player count, presets, hex padding.

Checks: every board and player count builds with the tiny preset and returns
policy logits over the encoder's whole index space and one value in [-1, 1] per
seat; presets are chosen by name or by board default and an unknown name is a
ConfigurationError; the hex mask covers the 61 cells of hex8 and nothing else.
"""

from __future__ import annotations

import pytest
import torch

from ringrift.configs import BOARD_TYPES, GameConfig
from ringrift.encoding import Encoder
from ringrift.errors import ConfigurationError
from ringrift.models import DEFAULT_PRESET, build_model, get_preset


@pytest.mark.parametrize("board", BOARD_TYPES)
@pytest.mark.parametrize("players", [2, 4])
def test_output_shapes(board: str, players: int) -> None:
    config = GameConfig(board, players)
    shape = Encoder.for_config(config).shape
    model = build_model(config, "tiny").eval()
    planes = torch.randn(2, shape.in_channels, shape.height, shape.width)
    with torch.no_grad():
        logits, values = model(planes, torch.randn(2, shape.num_globals))
    assert logits.shape == (2, shape.policy_size)
    assert values.shape == (2, players)
    assert float(values.abs().max()) <= 1.0


def test_presets_by_name_and_default() -> None:
    assert get_preset(None, "square19").name == DEFAULT_PRESET["square19"]
    assert get_preset("large", "square8").blocks > get_preset("small", "square8").blocks
    with pytest.raises(ConfigurationError, match="unknown model preset"):
        get_preset("huge", "square8")


def test_hex_mask_covers_exactly_the_board() -> None:
    model = build_model(GameConfig("hex8", 2), "tiny")
    assert model.valid_mask.shape == (1, 1, 9, 9)
    assert int(model.valid_mask.sum()) == 61
