"""The RingRift rules engine, its move type and its wire formats."""

from ringrift.game.engine import (
    apply_move,
    apply_row,
    final_ranking,
    initial_state,
    legal_moves,
    legal_rows,
)
from ringrift.game.errors import IllegalMoveError, WireFormatError
from ringrift.game.fingerprint import compact_hash, fingerprint, s_invariant
from ringrift.game.geometry import Geometry
from ringrift.game.move import Cells, LineInfo, Move, MoveType, Position, Territory
from ringrift.game.state import GameState
from ringrift.game.wire import WirePlayer, WireStack, WireState, state_from_json, state_to_json
from ringrift.game.wire_move import move_from_json, move_to_json

__all__ = [
    "GameState", "Geometry", "IllegalMoveError", "apply_move", "apply_row", "final_ranking",
    "initial_state", "legal_moves", "legal_rows",
    "Cells", "LineInfo", "Move", "MoveType", "Position", "Territory", "WireFormatError",
    "WirePlayer", "WireStack", "WireState", "move_from_json", "move_to_json",
    "compact_hash", "fingerprint", "s_invariant", "state_from_json", "state_to_json",
]
