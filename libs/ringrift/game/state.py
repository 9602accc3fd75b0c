"""GameState: one RingRift position held in a few small numpy arrays.

The layout (see ``codes.py``) lets every rule run in numba-compiled kernels and
makes ``copy()`` a handful of array copies (square8 2-player: about 1.4 KB of
arrays), so search can hold many thousands of states.

Read-only views for encoders (do not write into them):

- ``geometry``: the board (``geometry.Geometry``): cells as flat indices ``0..N-1``, each with
  ``(cell_row[i], cell_col[i])`` in a ``height x width`` grid, ``valid_mask`` of the grid
  (hex boards are embedded in a square grid), wire keys, adjacency tables.
- Per cell (length ``num_cells``): ``stack_controller`` (0 = no stack), ``stack_height``,
  ``cap_height``, ``marker_owner`` (0 = none), ``collapsed_owner`` (0 = not collapsed);
  ``stack_rings(cell)`` gives the ring colours top first.
- Per player (index ``p - 1`` for player ``p``): ``rings_in_hand``, ``eliminated_rings``
  (credited), ``territory_spaces``.
- Pending decision of the current phase: ``must_move_from`` (cell or None),
  ``chain_capture_position`` (cell or None), ``capture_attacker`` (cell or None),
  ``pending_line_reward`` (bool), ``pending_territory_region`` (cell mask or None),
  ``turn_has_recovery`` (bool, recovery context of territory eliminations).

``phase`` is the wire phase name; ``current_player`` is 1-based. The move history is
kept as a shared linked list (``history()`` materialises it), so copying is O(1) in
the number of moves made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ringrift.configs import GameConfig
from ringrift.game import codes as C
from ringrift.game.geometry import Geometry

if TYPE_CHECKING:
    from ringrift.game.move import Move
    from ringrift.game.wire import WireState

_INITIAL_RING_CAPACITY = 16


class GameState:
    """One game position; mutate only through ``ringrift.game.apply_move``."""

    __slots__ = ("config", "geometry", "board", "rings", "players", "meta", "pending_region",
                 "_history", "rules_options", "wire_status", "extra", "_legal")

    def __init__(self, config: GameConfig, geometry: Geometry) -> None:
        n = config.num_players
        self.config = config
        self.geometry = geometry
        self.board = np.zeros((geometry.num_cells, C.BOARD_COLS), dtype=np.int16)
        self.rings = np.zeros((geometry.num_cells, _INITIAL_RING_CAPACITY), dtype=np.int8)
        self.players = np.zeros((n + 1, C.PLAYER_COLS), dtype=np.int32)
        self.players[:, C.ELIM_TURN] = -1
        self.meta = np.zeros(C.META_LEN, dtype=np.int64)
        self.meta[C.M_NUM_PLAYERS] = n
        self.meta[C.M_MUST_MOVE] = -1
        self.meta[C.M_CHAIN] = -1
        self.meta[C.M_ATTACKER] = -1
        self.meta[C.M_GROW_BORDER] = 1 if geometry.grow_border else 0
        self.pending_region = np.zeros(geometry.num_cells, dtype=np.bool_)
        self._history: tuple | None = None
        self.rules_options: dict = {}
        self.wire_status: str | None = None
        self.extra: dict = {}
        self._legal: tuple | None = None  # cache of (rows, regions, moves) for this state

    # -- copying -----------------------------------------------------------------------
    def copy(self) -> GameState:
        """An independent copy (arrays copied, history shared)."""
        other = GameState.__new__(GameState)
        other.config = self.config
        other.geometry = self.geometry
        other.board = self.board.copy()
        other.rings = self.rings.copy()
        other.players = self.players.copy()
        other.meta = self.meta.copy()
        other.pending_region = self.pending_region.copy()
        other._history = self._history
        other.rules_options = self.rules_options
        other.wire_status = self.wire_status
        other.extra = self.extra
        other._legal = None
        return other

    # -- history -----------------------------------------------------------------------
    def history(self) -> list[Move]:
        """Every move applied so far, oldest first (including bookkeeping moves)."""
        moves = []
        node = self._history
        while node is not None:
            moves.append(node[0])
            node = node[1]
        moves.reverse()
        return moves

    @property
    def last_move(self) -> Move | None:
        """The move that led here (the engine's own legal move object), ``None`` at the start."""
        return self._history[0] if self._history is not None else None

    def _record(self, move: Move) -> None:
        self._history = (move, self._history)

    # -- scalars -----------------------------------------------------------------------
    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def current_player(self) -> int:
        return int(self.meta[C.M_PLAYER])

    @property
    def phase(self) -> str:
        return C.PHASE_NAMES[int(self.meta[C.M_PHASE])]

    @property
    def is_terminal(self) -> bool:
        return int(self.meta[C.M_STATUS]) == C.ST_COMPLETED

    @property
    def winner(self) -> int | None:
        w = int(self.meta[C.M_WINNER])
        return w if w else None

    @property
    def victory_reason(self) -> str | None:
        """How the game ended (``ring_elimination``, ``territory_control``, ...), or None."""
        return C.REASON_NAMES[int(self.meta[C.M_REASON])]

    @property
    def move_count(self) -> int:
        return int(self.meta[C.M_MOVE_COUNT])

    @property
    def line_length(self) -> int:
        return int(self.meta[C.M_LINE_LEN])

    @property
    def victory_threshold(self) -> int:
        return int(self.meta[C.M_VICTORY_THRESHOLD])

    @property
    def territory_victory_minimum(self) -> int:
        return int(self.meta[C.M_TERR_MINIMUM])

    @property
    def rings_per_player(self) -> int:
        return int(self.meta[C.M_RINGS_PER_PLAYER])

    @property
    def total_rings_eliminated(self) -> int:
        return int(self.meta[C.M_TOTAL_ELIM])

    @property
    def swap_rule_enabled(self) -> bool:
        return bool(self.meta[C.M_SWAP_ENABLED])

    @property
    def sides_swapped(self) -> bool:
        """True once ``swap_sides`` was played: seats 1 and 2 changed operators."""
        return bool(self.meta[C.M_SWAP_USED])

    # -- per-cell views ----------------------------------------------------------------
    @property
    def stack_controller(self) -> np.ndarray:
        return self.board[:, C.CTRL]

    @property
    def stack_height(self) -> np.ndarray:
        return self.board[:, C.H]

    @property
    def cap_height(self) -> np.ndarray:
        return self.board[:, C.CAP]

    @property
    def marker_owner(self) -> np.ndarray:
        return self.board[:, C.MARK]

    @property
    def collapsed_owner(self) -> np.ndarray:
        return self.board[:, C.COLL]

    def stack_rings(self, cell: int) -> list[int]:
        """Ring colours of the stack on ``cell``, top first (wire order); [] if none."""
        h = int(self.board[cell, C.H])
        return [int(r) for r in self.rings[cell, :h][::-1]]

    # -- per-player views --------------------------------------------------------------
    @property
    def rings_in_hand(self) -> np.ndarray:
        return self.players[1:, C.HAND]

    @property
    def eliminated_rings(self) -> np.ndarray:
        return self.players[1:, C.ELIM]

    @property
    def territory_spaces(self) -> np.ndarray:
        return self.players[1:, C.TERR]

    # -- pending decisions -------------------------------------------------------------
    def _cell_or_none(self, index: int) -> int | None:
        value = int(self.meta[index])
        return value if value >= 0 else None

    @property
    def must_move_from(self) -> int | None:
        return self._cell_or_none(C.M_MUST_MOVE)

    @property
    def chain_capture_position(self) -> int | None:
        return self._cell_or_none(C.M_CHAIN)

    @property
    def capture_attacker(self) -> int | None:
        return self._cell_or_none(C.M_ATTACKER)

    @property
    def pending_line_reward(self) -> bool:
        return bool(self.meta[C.M_PENDING_LINE])

    @property
    def pending_territory_region(self) -> np.ndarray | None:
        return self.pending_region if self.meta[C.M_PENDING_TERR] else None

    @property
    def turn_has_recovery(self) -> bool:
        return bool(self.meta[C.M_TURN_RECOVERY])

    def progress(self) -> int:
        """The S invariant: markers + collapsed cells + total eliminated rings (rules §14)."""
        markers = int(np.count_nonzero(self.board[:, C.MARK]))
        collapsed = int(np.count_nonzero(self.board[:, C.COLL]))
        return markers + collapsed + self.total_rings_eliminated

    @classmethod
    def from_wire(cls, ws: WireState) -> GameState:
        """The engine state of a wire state (``state_wire.state_from_wire``)."""
        from ringrift.game.state_wire import state_from_wire
        return state_from_wire(ws)

    def to_wire(self) -> WireState:
        """The wire form of this state (``state_wire.state_to_wire``)."""
        from ringrift.game.state_wire import state_to_wire
        return state_to_wire(self)

    def geometry_tuple(self) -> tuple:
        g = self.geometry
        return (g.rays, g.ray_len, g.line_dirs, g.opposite, g.territory_nbrs, g.step_nbrs,
                g.border_nbrs)

    def __repr__(self) -> str:
        status = f"winner={self.winner}" if self.is_terminal else f"P{self.current_player}"
        return f"<GameState {self.config.key} move {self.move_count} {self.phase} {status}>"
