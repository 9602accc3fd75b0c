"""Positions and the one ``Move`` type shared by the engine, the wire formats and search.

``Move`` mirrors the wire-format Move object (wire-format doc §5) field for field,
in snake_case. It is a frozen, slotted dataclass because the engine creates
thousands of them per search and uses them as dictionary keys.

Equality is by *game content*: two moves are equal when applying them does the
same thing. Bookkeeping-only fields (``id``, ``timestamp``, ``think_time``,
``move_number``, ``phase``) and informational payloads (``placed_on_stack``,
``extra`` such as ``eliminatedRings``/``eliminationFromStack``) are excluded from
``==`` and ``hash``, so a move received from another engine matches the same
move from our own legal-move enumeration. Geometry payloads compare as *sets of
cells* (``Cells``), because two engines may list a region or a line in a
different order. Bookkeeping and meta moves carry no board target: their ``to`` is
``None`` in memory and the sentinel ``{"x": 0, "y": 0}`` on the wire.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any


def _fast_frozen_init(cls: type) -> type:
    """Give a frozen slotted dataclass an ``__init__`` that is about 2.5x faster.

    CPython's generated frozen ``__init__`` looks up ``object.__setattr__`` afresh for
    every field (about 0.2 us each); ``Move`` has 21 fields and is built for every
    legal move. This ``__init__`` has the same signature and sets each slot through
    its descriptor. Only fields with plain defaults are supported (no factories).
    """
    params, body, env = [], [], {}
    for item in fields(cls):
        if item.default is not MISSING:
            env[f"_d_{item.name}"] = item.default
            params.append(f"{item.name}=_d_{item.name}")
        else:
            params.append(item.name)
        env[f"_s_{item.name}"] = cls.__dict__[item.name].__set__
        body.append(f"    _s_{item.name}(self, {item.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, env)  # noqa: S102 - generated from the dataclass's own field names
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    return cls


@_fast_frozen_init
@dataclass(frozen=True, slots=True)
class Position:
    """A cell: ``(x, y)`` on square boards, cube ``(x, y, z)`` on hex boards.

    ``z`` is ``None`` for square cells. A hex position read without ``z`` keeps
    ``z = None`` so its key stays the two-component form stored in the fixture
    (wire-format §1.2); use :meth:`canonical_hex` to complete it.
    """

    x: int
    y: int
    z: int | None = None

    @property
    def key(self) -> str:
        """The position key: ``"x,y"`` or ``"x,y,z"`` (the third part exactly when z is set)."""
        if self.z is None:
            return f"{self.x},{self.y}"
        return f"{self.x},{self.y},{self.z}"

    def canonical_hex(self) -> Position:
        """This position with ``z = -x - y`` filled in (hex boards)."""
        return self if self.z is not None else Position(self.x, self.y, -self.x - self.y)

    def __repr__(self) -> str:
        return f"({self.key})"


def position_from_key(key: str) -> Position:
    """Parse ``"x,y"`` or ``"x,y,z"``; raises ``ValueError`` on anything else."""
    parts = key.split(",")
    if len(parts) not in (2, 3):
        raise ValueError(f"position key {key!r} must have 2 or 3 comma-separated integers")
    numbers = [int(part) for part in parts]
    return Position(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None)


class Cells(tuple):  # type: ignore[type-arg]
    """An ordered tuple of positions that compares and hashes as a set.

    Order is kept for writing (lines list their cells along the line) but two
    payloads naming the same cells are the same move.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return frozenset(self) == frozenset(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(frozenset(self))


class MoveType(StrEnum):
    """Wire names of move types (wire-format §3). Values are the JSON strings."""

    PLACE_RING = "place_ring"
    SKIP_PLACEMENT = "skip_placement"
    NO_PLACEMENT_ACTION = "no_placement_action"
    SWAP_SIDES = "swap_sides"
    MOVE_STACK = "move_stack"
    OVERTAKING_CAPTURE = "overtaking_capture"
    CONTINUE_CAPTURE_SEGMENT = "continue_capture_segment"
    SKIP_CAPTURE = "skip_capture"
    NO_MOVEMENT_ACTION = "no_movement_action"
    RECOVERY_SLIDE = "recovery_slide"
    SKIP_RECOVERY = "skip_recovery"
    PROCESS_LINE = "process_line"
    CHOOSE_LINE_OPTION = "choose_line_option"
    NO_LINE_ACTION = "no_line_action"
    CHOOSE_TERRITORY_OPTION = "choose_territory_option"
    SKIP_TERRITORY_PROCESSING = "skip_territory_processing"
    NO_TERRITORY_ACTION = "no_territory_action"
    ELIMINATE_RINGS_FROM_STACK = "eliminate_rings_from_stack"
    FORCED_ELIMINATION = "forced_elimination"
    RESIGN = "resign"
    TIMEOUT = "timeout"
    # Legacy names with no canonical equivalent: readable, never generated, never legal.
    BUILD_STACK = "build_stack"
    LINE_FORMATION = "line_formation"
    TERRITORY_CLAIM = "territory_claim"


# Legacy wire names read as their canonical type (wire-format §3).
LEGACY_MOVE_TYPES: dict[str, MoveType] = {
    "move_ring": MoveType.MOVE_STACK,
    "choose_line_reward": MoveType.CHOOSE_LINE_OPTION,
    "process_territory_region": MoveType.CHOOSE_TERRITORY_OPTION,
    "chain_capture": MoveType.CONTINUE_CAPTURE_SEGMENT,
}

# Types whose ``to`` is a sentinel with no board meaning (stored as None).
SENTINEL_TARGET_TYPES: frozenset[MoveType] = frozenset({
    MoveType.SKIP_PLACEMENT, MoveType.NO_PLACEMENT_ACTION, MoveType.SWAP_SIDES,
    MoveType.SKIP_CAPTURE, MoveType.NO_MOVEMENT_ACTION, MoveType.SKIP_RECOVERY,
    MoveType.NO_LINE_ACTION, MoveType.SKIP_TERRITORY_PROCESSING, MoveType.NO_TERRITORY_ACTION,
    MoveType.RESIGN, MoveType.TIMEOUT,
})

# Bookkeeping moves the harnesses may auto-apply to finish a turn (wire-format §10.4).
AUTO_BOOKKEEPING_TYPES: frozenset[MoveType] = frozenset({
    MoveType.NO_LINE_ACTION, MoveType.NO_TERRITORY_ACTION,
})


@dataclass(frozen=True, slots=True)
class LineInfo:
    """A detected line (wire-format §5.3): cells in order along the line.

    Only ``positions`` and ``player`` are game content; ``length`` and
    ``direction`` are derived and do not take part in equality.
    """

    positions: Cells
    player: int
    length: int = field(default=0, compare=False)
    direction: Position | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Territory:
    """A region payload (wire-format §5.3). ``controlling_player`` is informational."""

    spaces: Cells
    controlling_player: int = field(default=0, compare=False)
    is_disconnected: bool = field(default=True, compare=False)


@_fast_frozen_init
@dataclass(frozen=True, slots=True)
class Move:
    """One move, as on the wire (wire-format §5); see the module docstring for equality.

    Fields:
        type: the move type (legacy names are normalised when read).
        player: acting player, 1-based.
        to: destination / target / representative cell; ``None`` for sentinel types.
        from_pos: origin (movement, capture, recovery); wire name ``from``.
        capture_target: the overtaken stack of a capture segment.
        placement_count: rings placed by ``place_ring`` (1-3); ``None`` for other types.
        formed_lines: ``formedLines``; ``formed_lines[0]`` is the line a line move acts on.
        collapsed_markers: ``choose_line_option``: the cells to collapse.
        disconnected_regions: ``choose_territory_option``: ``[0]`` is the region.
        elimination_context: ``line``/``territory``/``forced``/``recovery``; ``None`` when
            not stated (records never state it; the engine infers it from the phase).
        recovery_mode: ``line``/``fallback``/``stack_strike``.
        recovery_option: 1 or 2 (read from ``recoveryOption`` or ``option``).
        collapse_positions: recovery Option 2 cells.
        extraction_stacks: recovery: keys of the stacks to extract a buried ring from.
        placed_on_stack: informational.
        id, timestamp, think_time, move_number, phase: bookkeeping.
        extra: other wire fields, kept verbatim for writing (e.g. ``eliminatedRings``,
            ``eliminationFromStack``, ``lineIndex``, and fields the move's type does not
            use, such as PY's ``placementCount: 0`` on a forced elimination); never
            mutate it.
    """

    type: MoveType
    player: int
    to: Position | None = None
    from_pos: Position | None = None
    capture_target: Position | None = None
    placement_count: int | None = None
    formed_lines: tuple[LineInfo, ...] = ()
    collapsed_markers: Cells = Cells()
    disconnected_regions: tuple[Territory, ...] = ()
    elimination_context: str | None = None
    recovery_mode: str | None = None
    recovery_option: int | None = None
    collapse_positions: Cells = Cells()
    extraction_stacks: tuple[str, ...] = ()
    placed_on_stack: bool | None = field(default=None, compare=False)
    id: str = field(default="", compare=False)
    timestamp: str | None = field(default=None, compare=False)
    think_time: int | None = field(default=None, compare=False)
    move_number: int | None = field(default=None, compare=False)
    phase: str | None = field(default=None, compare=False)
    extra: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def line(self) -> LineInfo | None:
        """The line a line move acts on (``formed_lines[0]``), if any."""
        return self.formed_lines[0] if self.formed_lines else None

    @property
    def region(self) -> Territory | None:
        """The region a territory move acts on (``disconnected_regions[0]``), if any."""
        return self.disconnected_regions[0] if self.disconnected_regions else None

    def describe(self) -> str:
        """A short human-readable form for error messages and logs."""
        parts = [f"P{self.player} {self.type.value}"]
        if self.from_pos is not None:
            parts.append(f"from {self.from_pos.key}")
        if self.capture_target is not None:
            parts.append(f"over {self.capture_target.key}")
        if self.to is not None:
            parts.append(f"to {self.to.key}")
        if self.placement_count not in (None, 1):
            parts.append(f"x{self.placement_count}")
        return " ".join(parts)
