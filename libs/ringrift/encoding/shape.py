"""The shape of the encoder's output: what a network must accept and produce.

This is the whole contract between the encoder and the networks: input planes
``[in_channels, height, width]``, a global feature vector ``[num_globals]`` and a
policy of ``policy_planes * height * width + policy_global_slots`` logits laid out
as documented in :mod:`ringrift.encoding.policy`. A network is built from a shape,
and a checkpoint records it, so a model is never fed tensors of another encoder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class EncodingShape:
    """Tensor sizes of one encoder version for one config."""

    board_type: str
    num_players: int
    in_channels: int
    num_globals: int
    height: int
    width: int
    policy_planes: int
    """Policy planes anchored on a cell; index = plane * height * width + row * width + col."""
    policy_global_slots: int
    """Policy entries with no cell (skips and bookkeeping moves), after the planes."""

    @property
    def policy_size(self) -> int:
        """Length of the policy vector."""
        return self.policy_planes * self.height * self.width + self.policy_global_slots

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingShape:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})
