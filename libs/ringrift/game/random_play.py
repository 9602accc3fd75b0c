"""Seeded games of uniformly random legal moves, as GameRecords (``ringrift rules play``).

Random games exercise every rule cheaply: tests, benchmarks and users check that
``ringrift rules replay`` reproduces them exactly (the record carries the initial and
final state hashes).
"""

from __future__ import annotations

import random

from ringrift.configs import GameConfig
from ringrift.game import engine
from ringrift.game.fingerprint import compact_hash
from ringrift.game.move import Move
from ringrift.game.record import GameRecord
from ringrift.game.replay import GameState, victory_reason
from ringrift.game.wire import WireState


def play_random(config: GameConfig, seed: int, max_moves: int = 20000) -> tuple[GameRecord,
                                                                                 GameState]:
    """Play one game with uniformly random legal moves.

    Args:
        config: board and player count.
        seed: the random seed; the same seed gives the same game.
        max_moves: stop an unfinished game after this many moves (its record then has no
            winner).

    Returns:
        The game's record and its final state.
    """
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
