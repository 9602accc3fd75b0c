"""Writing a ``WireState`` as game-state JSON: the contract form (§4.1) or the host form (§4.2).

Kept apart from the reader (``wire.py``) only for size; ``ringrift.game.wire`` re-exports
``state_to_json``. Rings are written top first, keys as stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ringrift.game.move import position_from_key
from ringrift.game.wire_move import move_to_json, position_to_json

if TYPE_CHECKING:
    from ringrift.game.wire import WireStack, WireState


def _stack_to_json(stack: WireStack) -> dict[str, Any]:
    return {"position": position_to_json(stack.position), "rings": list(stack.rings),
            "stackHeight": stack.stack_height, "capHeight": stack.cap_height,
            "controllingPlayer": stack.controlling_player}


def _board_to_json(state: WireState) -> dict[str, Any]:
    positions = state.marker_positions
    return {
        "type": state.board_type,
        "size": state.size,
        "stacks": {key: _stack_to_json(stack) for key, stack in state.stacks.items()},
        "markers": {key: {"position": position_to_json(positions.get(key)
                                                       or position_from_key(key)),
                          "player": owner, "type": "regular"}
                    for key, owner in state.markers.items()},
        "collapsedSpaces": dict(state.collapsed),
        "eliminatedRings": {str(p): n for p, n in state.board_eliminated_rings.items()},
        "formedLines": [],
        "territories": {},
    }


def state_to_json(state: WireState, form: Literal["contract", "host"] = "contract"
                  ) -> dict[str, Any]:
    """Write the contract form (§4.1, TS field order) or the full host form (§4.2).

    Fields the contract form lacks (``pendingLineRewardElimination``, ``winner``,
    LPS data) are written as extra keys so that nothing is lost (§4.1).
    """
    out: dict[str, Any] = {}
    if form == "contract":
        if state.game_id is not None:
            out["gameId"] = state.game_id
    else:
        out["id"] = state.game_id or ""
        out["boardType"] = state.board_type
    out["board"] = _board_to_json(state)
    if form == "contract":
        out["players"] = [{"playerNumber": p.player_number, "ringsInHand": p.rings_in_hand,
                           "eliminatedRings": p.eliminated_rings,
                           "territorySpaces": p.territory_spaces, "isActive": True}
                          for p in state.players]
    else:
        out["players"] = [{"id": f"p{p.player_number}", "username": f"Player {p.player_number}",
                           "type": "ai", "playerNumber": p.player_number, "isReady": True,
                           "timeRemaining": 0, "ringsInHand": p.rings_in_hand,
                           "eliminatedRings": p.eliminated_rings,
                           "territorySpaces": p.territory_spaces} for p in state.players]
    out["currentPlayer"] = state.current_player
    out["currentPhase"] = state.phase
    if state.chain_capture_position is not None:
        out["chainCapturePosition"] = position_to_json(state.chain_capture_position)
    if state.must_move_from_stack_key is not None:
        out["mustMoveFromStackKey"] = state.must_move_from_stack_key
    if form == "contract":
        out["turnNumber"] = (state.turn_number if state.turn_number is not None
                             else len(state.move_history) + 1)
    else:
        out["history"] = []
    out["moveHistory"] = [move_to_json(move) for move in state.move_history]
    out["gameStatus"] = state.status
    for name, value in (("victoryThreshold", state.victory_threshold),
                        ("territoryVictoryThreshold", state.territory_victory_threshold),
                        ("territoryVictoryMinimum", state.territory_victory_minimum),
                        ("totalRingsEliminated", state.total_rings_eliminated),
                        ("totalRingsInPlay", state.total_rings_in_play)):
        if value is not None:
            out[name] = value
    out["winner"] = state.winner
    if state.rules_options is not None:
        options = state.rules_options
        out["rulesOptions"] = {k: v for k, v in (
            ("swapRuleEnabled", options.swap_rule_enabled),
            ("ringsPerPlayer", options.rings_per_player),
            ("lpsRoundsRequired", options.lps_rounds_required)) if v is not None}
    if state.pending_line_reward_elimination or form == "host":
        out["pendingLineRewardElimination"] = state.pending_line_reward_elimination
    out.update(state.lps)
    return out
