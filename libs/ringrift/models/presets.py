"""Named model sizes: one network definition, sized by a preset name, never by loose numbers.

A preset fixes the residual trunk (blocks x channels) and the head widths. The
same names work on every board; ``DEFAULT_PRESET`` picks the size that suits a
board when the caller does not say (bigger boards need a wider receptive field
and more capacity). ``tiny`` exists for tests: it trains in milliseconds on a CPU.
Presets are recorded in every checkpoint, so a loader can rebuild exactly the
network that was saved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ringrift.errors import ConfigurationError


@dataclass(frozen=True)
class ModelPreset:
    """The hyper-parameters of one size of the residual policy-value network."""

    name: str
    blocks: int
    """Residual blocks in the trunk (each two 3x3 convolutions)."""
    channels: int
    """Channels of the trunk."""
    policy_channels: int
    """Channels of the policy head's hidden 1x1 convolution."""
    value_channels: int
    """Channels of the value head's 1x1 convolution before pooling."""
    value_hidden: int
    """Width of the value head's hidden fully connected layer."""

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)


PRESETS: dict[str, ModelPreset] = {
    preset.name: preset
    for preset in (
        ModelPreset("tiny", blocks=1, channels=16, policy_channels=8, value_channels=4,
                    value_hidden=16),
        ModelPreset("small", blocks=4, channels=48, policy_channels=32, value_channels=8,
                    value_hidden=64),
        ModelPreset("medium", blocks=8, channels=96, policy_channels=32, value_channels=16,
                    value_hidden=128),
        ModelPreset("large", blocks=16, channels=192, policy_channels=64, value_channels=32,
                    value_hidden=256),
    )
}

DEFAULT_PRESET: dict[str, str] = {
    "square8": "small",
    "hex8": "small",
    "square19": "medium",
    "hexagonal": "medium",
}
"""The preset used for a board when none is named."""


def get_preset(name: str | None, board_type: str) -> ModelPreset:
    """The preset called ``name``, or the board's default when ``name`` is None.

    Raises:
        ConfigurationError: ``name`` is not a known preset.
    """
    key = DEFAULT_PRESET[board_type] if name is None else name
    try:
        return PRESETS[key]
    except KeyError:
        raise ConfigurationError(
            f"unknown model preset {key!r}; expected one of {', '.join(PRESETS)}"
        ) from None
