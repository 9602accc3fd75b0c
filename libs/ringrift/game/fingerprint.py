"""The canonical state fingerprint, its compact hash and the S invariant.

``fingerprint`` is the readable parity string both reference engines compute
(wire-format §8.1): ``META#PLAYERS#STACKS#MARKERS#COLLAPSED``, each section's
entries sorted as whole strings in code-unit order, keys used exactly as stored.
``compact_hash`` is the 16-hex ``simpleHash`` of that string (§8.2), which is
what replay databases and record headers store. ``s_invariant`` is
``markers + collapsed + eliminated`` (§9) with the ways tools count eliminations.

All three accept a ``WireState`` or anything with a ``to_wire()`` method (an
engine ``GameState``).
"""

from __future__ import annotations

from typing import Literal, Protocol

from ringrift.game.wire import TERMINAL_STATUSES, WireState

_MASK = 0xFFFFFFFF


class _HasWire(Protocol):
    def to_wire(self) -> WireState: ...


def as_wire(state: WireState | _HasWire) -> WireState:
    """The ``WireState`` of a state: itself, or the engine state's ``to_wire()``."""
    return state if isinstance(state, WireState) else state.to_wire()


def fingerprint(state: WireState | _HasWire) -> str:
    """The canonical fingerprint string of a state (wire-format §8.1)."""
    wire = as_wire(state)
    status = "completed" if wire.status == "finished" else wire.status
    if status in TERMINAL_STATUSES:
        meta = f"0:game_over:{status}:"
    else:
        meta = f"{wire.current_player}:{wire.phase}:{status}:"
    meta += "1" if wire.pending_line_reward_elimination else "0"
    players = "|".join(sorted(
        f"{p.player_number}:{p.rings_in_hand}:{p.eliminated_rings}:{p.territory_spaces}"
        for p in wire.players))
    stacks = "|".join(sorted(
        f"{key}:{s.controlling_player}:{s.stack_height}:{s.cap_height}"
        for key, s in wire.stacks.items()))
    markers = "|".join(sorted(f"{key}:{owner}" for key, owner in wire.markers.items()))
    collapsed = "|".join(sorted(f"{key}:{owner}" for key, owner in wire.collapsed.items()))
    return f"{meta}#{players}#{stacks}#{markers}#{collapsed}"


def simple_hash(text: str) -> str:
    """The compact 16-hex-digit hash of a string (wire-format §8.2, TS ``simpleHash``)."""
    h1, h2 = 0xDEADBEEF, 0x41C6CE57
    for char in text:
        code = ord(char)
        h1 = ((h1 ^ code) * 2654435761) & _MASK
        h2 = ((h2 ^ code) * 1597334677) & _MASK
    h1 = (((h1 ^ (h1 >> 16)) * 2246822507) & _MASK) ^ (((h2 ^ (h2 >> 13)) * 3266489909) & _MASK)
    h2 = (((h2 ^ (h2 >> 16)) * 2246822507) & _MASK) ^ (((h1 ^ (h1 >> 13)) * 3266489909) & _MASK)
    return f"{h2:08x}{h1:08x}"


def compact_hash(state: WireState | _HasWire) -> str:
    """``simple_hash(fingerprint(state))``: the short state hash records and databases store."""
    return simple_hash(fingerprint(state))


EliminationSource = Literal["ts", "board", "max"]


def eliminated_total(state: WireState | _HasWire, source: EliminationSource = "ts") -> int:
    """E of the S invariant, counted the way a given tool counts it (wire-format §9).

    ``ts``: ``totalRingsEliminated`` if present, else the sum of ``board.eliminatedRings``
    (TS snapshots and PY's core snapshot); ``board``: the board map only (PY contract
    harness, used for ``sInvariantDelta``); ``max``: the larger of the two (PY board manager).
    """
    wire = as_wire(state)
    board_sum = sum(wire.board_eliminated_rings.values())
    if source == "board":
        return board_sum
    if source == "max":
        return max(wire.total_rings_eliminated or 0, board_sum)
    return board_sum if wire.total_rings_eliminated is None else wire.total_rings_eliminated


def s_invariant(state: WireState | _HasWire, source: EliminationSource = "ts") -> int:
    """S = markers + collapsed cells + eliminated rings (rules §14, wire-format §9)."""
    wire = as_wire(state)
    return len(wire.markers) + len(wire.collapsed) + eliminated_total(wire, source)
