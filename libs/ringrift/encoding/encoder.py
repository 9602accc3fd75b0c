"""The encoder of one config: positions to tensors, moves to policy indices and back.

``Encoder.for_config(config)`` is cached; it is cheap to call anywhere. Planes
and globals are described in :mod:`ringrift.encoding.features`, the policy index
space in :mod:`ringrift.encoding.policy`. Changing either is a new
``ENCODER_VERSION``: checkpoints and shards record it and loaders refuse a
mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from ringrift.configs import GameConfig
from ringrift.encoding import features
from ringrift.encoding.errors import EncodingError
from ringrift.encoding.policy import PolicyLayout, layout_of
from ringrift.encoding.shape import EncodingShape
from ringrift.game.move import Move
from ringrift.game.state import GameState

ENCODER_VERSION = 2
"""Raised whenever planes, globals or the policy index space change meaning. Version 2 sized the
recovery extraction slots by the board's rings per player (square19 and hexagonal grew)."""


class Encoder:
    """Tensors and policy indices for one board type and player count."""

    def __init__(self, config: GameConfig) -> None:
        self.config = config
        self.layout: PolicyLayout = layout_of(config)
        geo = self.layout.geometry
        self.shape = EncodingShape(
            board_type=config.board_type, num_players=config.num_players,
            in_channels=features.num_planes(config.num_players),
            num_globals=features.num_globals(config.num_players),
            height=geo.height, width=geo.width, policy_planes=self.layout.num_planes,
            policy_global_slots=self.layout.size - self.layout.num_planes * geo.height * geo.width,
        )

    @staticmethod
    @cache
    def for_config(config: GameConfig) -> Encoder:
        """The (shared) encoder of ``config``."""
        return Encoder(config)

    @property
    def policy_size(self) -> int:
        return self.shape.policy_size

    def _check(self, state: GameState) -> None:
        if state.config != self.config or state.geometry is not self.layout.geometry:
            raise EncodingError(
                f"this encoder is for standard {self.config.key} boards, the state is "
                f"{state.config.key} of size {state.geometry.size}")

    def encode(self, state: GameState) -> tuple[np.ndarray, np.ndarray]:
        """``(planes float32 [C, H, W], globals float32 [G])`` of ``state``."""
        planes, globals_ = self.encode_batch([state])
        return planes[0], globals_[0]

    def encode_batch(self, states: Sequence[GameState]) -> tuple[np.ndarray, np.ndarray]:
        """Stacked features of many states: ``[B, C, H, W]`` and ``[B, G]``."""
        s = self.shape
        planes = np.zeros((len(states), s.in_channels, s.height, s.width), dtype=np.float32)
        globals_ = np.zeros((len(states), s.num_globals), dtype=np.float32)
        for i, state in enumerate(states):
            self._check(state)
            features.encode_into(state, planes[i], globals_[i])
        return planes, globals_

    def move_to_index(self, state: GameState, move: Move) -> int:
        """The policy index of a legal move of ``state``."""
        return self.layout.move_to_index(state, move)

    def legal_indices(self, state: GameState, moves: Sequence[Move]) -> np.ndarray:
        """The policy indices of ``moves`` (typically ``legal_moves(state)``), int64."""
        return np.fromiter((self.layout.move_to_index(state, m) for m in moves),
                           dtype=np.int64, count=len(moves))

    def index_to_move(self, state: GameState, index: int,
                      moves: Sequence[Move] | None = None) -> Move | None:
        """The legal move of ``state`` with this index, or None if no legal move has it.

        Args:
            moves: the legal moves, if the caller has them (saves listing them again).
        """
        if moves is None:
            from ringrift.game.engine import legal_moves
            moves = legal_moves(state)
        for move in moves:
            if self.layout.move_to_index(state, move) == index:
                return move
        return None
