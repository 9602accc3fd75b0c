"""A tiny real game with the rules engine's API, so search is testable by exhaustive solving.

k-in-a-row for 2-4 players on a small board (3x3, k=3, 2 players is tic-tac-toe): players take
turns placing a stone on any empty cell; the first with ``k`` in a row (any direction) wins and
ranks first, the others share second place; a full board is a draw (everyone ranks first).
With ``bookkeeping=True`` every placement is followed by a forced ``end_turn`` move by the same
player, mimicking RingRift's single-choice bookkeeping moves (consecutive moves by one seat).

The module itself satisfies ``ringrift.search.GameRules``: pass ``tests.utils.tiny_game`` as
``rules``. :func:`solve` is an exact max^n solver (each seat maximises its own value) used as
ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from ringrift.search.rules import terminal_values

_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


@dataclass(frozen=True)
class Move:
    """A placement at (row, col), or ``end_turn`` (row = col = -1)."""

    kind: str
    row: int = -1
    col: int = -1


END_TURN = Move("end_turn")


@dataclass(frozen=True)
class TinyState:
    rows: int
    cols: int
    k: int
    num_players: int
    bookkeeping: bool
    board: tuple[int, ...]
    current_player: int = 1
    phase: str = "place"
    winner: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.winner is not None or (self.phase == "place" and 0 not in self.board)

    def copy(self) -> TinyState:
        return self


def initial_state(rows: int = 3, cols: int = 3, k: int = 3, num_players: int = 2,
                  bookkeeping: bool = False) -> TinyState:
    return TinyState(rows, cols, k, num_players, bookkeeping, (0,) * (rows * cols))


def from_rows(text: str, num_players: int = 2, k: int = 3, to_move: int = 1) -> TinyState:
    """A position from rows like ``"x.o/..x/..."`` ('x'=1, 'o'=2, 'z'=3, 'w'=4, '.'=empty)."""
    symbols = {".": 0, "x": 1, "o": 2, "z": 3, "w": 4}
    lines = text.split("/")
    board = tuple(symbols[c] for line in lines for c in line)
    return TinyState(len(lines), len(lines[0]), k, num_players, False, board, to_move)


def legal_moves(state: TinyState) -> list[Move]:
    if state.is_terminal:
        return []
    if state.phase == "end_turn":
        return [END_TURN]
    return [Move("place", i // state.cols, i % state.cols)
            for i, cell in enumerate(state.board) if cell == 0]


def apply_move(state: TinyState, move: Move) -> TinyState:
    if state.is_terminal or move not in legal_moves(state):
        raise ValueError(f"illegal move {move} in {state}")
    if move.kind == "end_turn":
        return replace(state, phase="place", current_player=_next(state))
    index = move.row * state.cols + move.col
    board = state.board[:index] + (state.current_player,) + state.board[index + 1:]
    placed = replace(state, board=board)
    if _wins(placed, move.row, move.col):
        return replace(placed, winner=state.current_player)
    if state.bookkeeping:
        return replace(placed, phase="end_turn")
    return replace(placed, current_player=_next(state))


def final_ranking(state: TinyState) -> list[int]:
    if state.winner is None:
        return [1] * state.num_players
    return [1 if p == state.winner else 2 for p in range(1, state.num_players + 1)]


def solve(state: TinyState) -> tuple[float, ...]:
    """Exact per-seat values under max^n play (each seat maximises its own value)."""
    return _solve(state)


@cache
def _solve(state: TinyState) -> tuple[float, ...]:
    if state.is_terminal:
        return tuple(float(v) for v in terminal_values(final_ranking(state)))
    seat = state.current_player - 1
    return max((_solve(apply_move(state, m)) for m in legal_moves(state)), key=lambda v: v[seat])


def winning_moves(state: TinyState) -> list[Move]:
    """Moves after which the player to move is certain to win under max^n play."""
    seat = state.current_player - 1
    return [m for m in legal_moves(state) if _solve(apply_move(state, m))[seat] == 1.0]


def _next(state: TinyState) -> int:
    return state.current_player % state.num_players + 1


def _wins(state: TinyState, row: int, col: int) -> bool:
    player = state.board[row * state.cols + col]
    for dr, dc in _DIRECTIONS:
        count = 1
        for sign in (1, -1):
            r, c = row + sign * dr, col + sign * dc
            while 0 <= r < state.rows and 0 <= c < state.cols \
                    and state.board[r * state.cols + c] == player:
                count += 1
                r, c = r + sign * dr, c + sign * dc
        if count >= state.k:
            return True
    return False
