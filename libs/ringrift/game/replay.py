"""Applying received moves safely, replaying records, and playing random games.

A move that arrives from outside (a record, a request, another engine) first has
every cell checked against the board, so an off-board cell is named as such; the
engine's ``apply_move`` then refuses a finished game, the wrong player and any move
that is not among its legal moves (resolving under-specified record moves, such as
an elimination without ``eliminationContext``, to the engine's own move).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from ringrift.configs import GameConfig
from ringrift.game import engine
from ringrift.game.errors import IllegalMoveError
from ringrift.game.fingerprint import compact_hash, fingerprint, simple_hash
from ringrift.game.move import Move, Position
from ringrift.game.record import GameRecord
from ringrift.game.wire import WireState, on_board

GameState = engine.GameState


@dataclass(frozen=True, slots=True)
class Board:
    """What move checks need to know about the board."""

    board_type: str
    size: int

    @classmethod
    def of(cls, state: GameState) -> Board:
        return cls(state.geometry.board_type, state.geometry.size)


def _cells(move: Move) -> Iterator[tuple[str, Position]]:
    for name, cell in (("to", move.to), ("from", move.from_pos),
                       ("captureTarget", move.capture_target)):
        if cell is not None:
            yield name, cell
    for line in move.formed_lines:
        for cell in line.positions:
            yield "formedLines", cell
    for region in move.disconnected_regions:
        for cell in region.spaces:
            yield "disconnectedRegions", cell
    for cell in (*move.collapsed_markers, *move.collapse_positions):
        yield "collapsed cells", cell


def check_cells(move: Move, board: Board) -> None:
    """Refuse a move naming a cell that is not on the board.

    Raises:
        IllegalMoveError: naming the field and the cell.
    """
    for name, cell in _cells(move):
        if not on_board(cell, board.board_type, board.size):
            raise IllegalMoveError(f"{move.describe()}: {name} cell {cell.key} is off the "
                                   f"{board.board_type} board")


def apply_checked(state: GameState, move: Move, board: Board) -> GameState:
    """The state after a received ``move``, checked by :func:`check_cells` and the engine.

    Raises:
        IllegalMoveError: an off-board cell, a finished game, another player's turn, or a
            move that is not legal here; the message says which.
    """
    check_cells(move, board)
    return engine.apply_move(state, move)


def start_state(record: GameRecord) -> GameState:
    """The state a record starts from: its trace ``initialState`` or the standard one."""
    if record.initial_state is not None:
        return GameState.from_wire(record.initial_state)
    return engine.initial_state(GameConfig(record.board_type, record.num_players))


@dataclass(slots=True)
class ReplayStep:
    index: int
    move: Move
    state: GameState


def replay(record: GameRecord) -> Iterator[ReplayStep]:
    """Apply every move of ``record`` in order, yielding the state after each.

    Raises:
        IllegalMoveError: at the first illegal move; the message starts with its index.
    """
    state = start_state(record)
    board = Board.of(state)
    for index, move in enumerate(record.moves):
        try:
            state = apply_checked(state, move, board)
        except IllegalMoveError as error:
            raise IllegalMoveError(f"move {index}: {error}") from None
        yield ReplayStep(index, move, state)


def play_random(config: GameConfig, seed: int, max_moves: int = 20000) -> tuple[GameRecord,
                                                                                 GameState]:
    """Play one game with uniformly random legal moves; returns its record and final state."""
    rng = random.Random(seed)
    state = engine.initial_state(config)
    moves: list[Move] = []
    while not state.is_terminal and len(moves) < max_moves:
        legal = engine.legal_moves(state)
        move = legal[rng.randrange(len(legal))]
        moves.append(move)
        state = engine.apply_move(state, move)
    record = GameRecord(board_type=config.board_type, num_players=config.num_players,
                        moves=moves, id=f"random-{config.key}-{seed}", rng_seed=seed,
                        winner=state.winner, outcome=victory_reason(state),
                        final_score=final_score(state.to_wire()),
                        initial_state_hash=compact_hash(engine.initial_state(config)),
                        final_state_hash=compact_hash(state),
                        metadata={"source": "soak_test", "tags": ["random"]})
    return record, state


def final_score(wire: WireState) -> dict[str, dict[str, int]]:
    """The record's ``finalScore`` (wire-format §6.1); ``ringsRemaining`` counts each
    player's rings in hand plus its rings in stacks."""
    on_board: dict[int, int] = {}
    for stack in wire.stacks.values():
        for ring in stack.rings:
            on_board[ring] = on_board.get(ring, 0) + 1
    return {
        "ringsEliminated": {str(p.player_number): p.eliminated_rings for p in wire.players},
        "territorySpaces": {str(p.player_number): p.territory_spaces for p in wire.players},
        "ringsRemaining": {str(p.player_number): p.rings_in_hand + on_board.get(p.player_number, 0)
                           for p in wire.players},
    }


def victory_reason(state: GameState) -> str | None:
    """The game-outcome name (wire-format §3) of a finished state, ``None`` while it runs."""
    return state.victory_reason if state.is_terminal else None


def final_summary(state: GameState) -> dict[str, object]:
    """Status, winner, victory reason, fingerprint and compact hash of a (final) state."""
    wire: WireState = state.to_wire()
    text = fingerprint(wire)
    return {"status": wire.status, "winner": state.winner, "victoryReason": victory_reason(state),
            "fingerprint": text, "hash": simple_hash(text)}
