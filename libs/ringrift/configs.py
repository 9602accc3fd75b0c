"""Board types, player counts and the config key that partitions all pipeline work.

A *config* is a board type and a player count, written ``square8_2p``. It is the
Kafka partition key of every pipeline event, so all work for one config stays in
order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ringrift.errors import ConfigurationError

BOARD_TYPES: tuple[str, ...] = ("square8", "square19", "hex8", "hexagonal")
PLAYER_COUNTS: tuple[int, ...] = (2, 3, 4)

_KEY_PATTERN = re.compile(r"^(?P<board>[a-z0-9]+)_(?P<players>\d)p$")


@dataclass(frozen=True, order=True)
class GameConfig:
    """One board type with one player count."""

    board_type: str
    num_players: int

    def __post_init__(self) -> None:
        if self.board_type not in BOARD_TYPES:
            raise ConfigurationError(
                f"unknown board type {self.board_type!r}; expected one of {', '.join(BOARD_TYPES)}"
            )
        if self.num_players not in PLAYER_COUNTS:
            raise ConfigurationError(
                f"unsupported player count {self.num_players}; expected 2, 3 or 4"
            )

    @property
    def key(self) -> str:
        """The partition key, e.g. ``square8_2p``."""
        return f"{self.board_type}_{self.num_players}p"

    @classmethod
    def parse(cls, key: str) -> GameConfig:
        """Parse a key such as ``hex8_3p``.

        Raises:
            ConfigurationError: the key is not of the form ``<board>_<n>p`` or names
                an unknown board or player count.
        """
        match = _KEY_PATTERN.match(key)
        if match is None:
            raise ConfigurationError(f"malformed config key {key!r}; expected e.g. 'square8_2p'")
        return cls(match["board"], int(match["players"]))

    def __str__(self) -> str:
        return self.key


ALL_CONFIGS: tuple[GameConfig, ...] = tuple(
    GameConfig(board, players) for board in BOARD_TYPES for players in PLAYER_COUNTS
)
