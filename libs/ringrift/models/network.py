"""The residual policy-value network, the one architecture every size and board uses.

AlphaZero-style trunk (a 3x3 stem and residual blocks) over the encoder's planes,
with the global feature vector added to the stem as a per-channel bias so that
counters such as rings in hand reach every cell. Two heads:

- policy: a 1x1 convolution to ``policy_planes`` logits per cell (moves anchored on
  a cell) plus a small fully connected layer on pooled features for the moves with
  no cell (skips, bookkeeping); concatenated in the encoder's index order. Illegal
  moves are *not* masked here: callers keep the logits at
  ``Encoder.legal_indices(...)`` (a network does not know the rules).
- value: one value in [-1, 1] per seat, **seats relative to the player to move**
  (index 0 = the mover, then the following seats in turn order), matching the
  encoder's point of view. ``ringrift.training.targets`` converts rankings to
  this order and back.

Hex boards are embedded in a square grid; activations of cells that are not on
the board are zeroed after every block so padding never leaks into the trunk.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ringrift.configs import GameConfig
from ringrift.encoding.shape import EncodingShape
from ringrift.game.geometry import geometry_for
from ringrift.models.presets import ModelPreset

ARCHITECTURE = "resnet_pv"
"""Name recorded in checkpoints; bump the suffix of a new architecture, never reuse it."""


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity skip."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x) * mask


class PolicyValueNet(nn.Module):
    """Residual policy-value network for one config; see the module docstring.

    Args:
        shape: the encoder's tensor shape (board, players, planes, policy layout).
        preset: the size.
    """

    def __init__(self, shape: EncodingShape, preset: ModelPreset) -> None:
        super().__init__()
        self.shape = shape
        self.preset = preset
        geometry = geometry_for(GameConfig(shape.board_type, shape.num_players))
        mask = torch.zeros(1, 1, shape.height, shape.width)
        mask[0, 0, torch.tensor(geometry.cell_row.tolist()),
             torch.tensor(geometry.cell_col.tolist())] = 1.0
        # A buffer, not a parameter: it moves with .to(device) and is saved, never trained.
        self.register_buffer("valid_mask", mask)
        self.valid_count = float(mask.sum())

        ch = preset.channels
        self.stem = nn.Conv2d(shape.in_channels, ch, 3, padding=1, bias=False)
        self.stem_globals = nn.Linear(shape.num_globals, ch)
        self.stem_bn = nn.BatchNorm2d(ch)
        self.blocks = nn.ModuleList(ResidualBlock(ch) for _ in range(preset.blocks))

        self.policy_conv = nn.Conv2d(ch, preset.policy_channels, 1, bias=False)
        self.policy_bn = nn.BatchNorm2d(preset.policy_channels)
        self.policy_out = nn.Conv2d(preset.policy_channels, shape.policy_planes, 1)
        self.policy_global = nn.Linear(2 * ch, shape.policy_global_slots)

        self.value_conv = nn.Conv2d(ch, preset.value_channels, 1, bias=False)
        self.value_bn = nn.BatchNorm2d(preset.value_channels)
        self.value_fc1 = nn.Linear(2 * preset.value_channels + shape.num_globals,
                                   preset.value_hidden)
        self.value_fc2 = nn.Linear(preset.value_hidden, shape.num_players)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """Everything needed to rebuild this network (recorded in checkpoints)."""
        return {"preset": self.preset.to_dict(), "shape": self.shape.to_dict()}

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over valid cells and max, concatenated: ``[B, 2 * C]``."""
        mean = x.sum(dim=(2, 3)) / self.valid_count
        peak = (x - (1.0 - self.valid_mask) * 1e4).amax(dim=(2, 3))
        return torch.cat([mean, peak], dim=1)

    def forward(self, planes: torch.Tensor,
                globals_: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy logits ``[B, policy_size]`` and values ``[B, num_players]`` in [-1, 1].

        Args:
            planes: ``[B, in_channels, height, width]`` float.
            globals_: ``[B, num_globals]`` float.
        """
        mask = self.valid_mask
        x = self.stem(planes) + self.stem_globals(globals_)[:, :, None, None]
        x = F.relu(self.stem_bn(x)) * mask
        for block in self.blocks:
            x = block(x, mask)

        p = F.relu(self.policy_bn(self.policy_conv(x)))
        spatial = self.policy_out(p).flatten(1)
        policy = torch.cat([spatial, self.policy_global(self._pool(x))], dim=1)

        v = F.relu(self.value_bn(self.value_conv(x))) * mask
        v = torch.cat([self._pool(v), globals_], dim=1)
        values = torch.tanh(self.value_fc2(F.relu(self.value_fc1(v))))
        return policy, values


def build_model(config: GameConfig, preset: str | None = None) -> PolicyValueNet:
    """A freshly initialised network for ``config`` with the current encoder's shape.

    Args:
        config: board and player count.
        preset: a name from ``PRESETS``; None picks the board's default size.
    """
    from ringrift.encoding import Encoder
    from ringrift.models.presets import get_preset

    return PolicyValueNet(Encoder.for_config(config).shape, get_preset(preset, config.board_type))
