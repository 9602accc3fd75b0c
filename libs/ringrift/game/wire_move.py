"""Move and position JSON (wire-format §1 and §5): read into ``Move``, write back.

Reading is strict about what the rules need (types, players, positions of the
fields a move type uses) and tolerant about what the format allows: legacy type
names, ``option`` for ``recoveryOption``, snake_case recovery fields, a ``null``
or sentinel ``to`` on bookkeeping moves, ``"z": null`` on square positions.
Every error is a ``WireFormatError`` naming the path of the bad field.
"""

from __future__ import annotations

from typing import Any

from ringrift.game.errors import WireFormatError
from ringrift.game.move import (
    LEGACY_MOVE_TYPES,
    SENTINEL_TARGET_TYPES,
    Cells,
    LineInfo,
    Move,
    MoveType,
    Position,
    Territory,
)

_MOVE_TYPES: dict[str, MoveType] = {t.value: t for t in MoveType} | LEGACY_MOVE_TYPES

# Types that need each field; anything else in the move is optional.
_NEEDS_TO = frozenset({
    MoveType.PLACE_RING, MoveType.MOVE_STACK, MoveType.OVERTAKING_CAPTURE,
    MoveType.CONTINUE_CAPTURE_SEGMENT, MoveType.RECOVERY_SLIDE,
    MoveType.ELIMINATE_RINGS_FROM_STACK, MoveType.FORCED_ELIMINATION,
})
_NEEDS_FROM = frozenset({
    MoveType.MOVE_STACK, MoveType.OVERTAKING_CAPTURE, MoveType.CONTINUE_CAPTURE_SEGMENT,
    MoveType.RECOVERY_SLIDE,
})
_NEEDS_TARGET = frozenset({MoveType.OVERTAKING_CAPTURE, MoveType.CONTINUE_CAPTURE_SEGMENT})
_ELIMINATION_CONTEXTS = frozenset({"line", "territory", "forced", "recovery"})
_RECOVERY_MODES = frozenset({"line", "fallback", "stack_strike"})

# Wire fields this module maps to ``Move`` attributes; everything else goes to ``extra``.
_KNOWN_FIELDS = frozenset({
    "id", "type", "player", "from", "to", "captureTarget", "placementCount", "placedOnStack",
    "formedLines", "collapsedMarkers", "disconnectedRegions", "eliminationContext",
    "recoveryMode", "recoveryOption", "option", "collapsePositions", "collapse_positions",
    "extractionStacks", "extraction_stacks", "timestamp", "thinkTime", "thinkTimeMs",
    "moveNumber", "phase",
})
_SENTINEL_JSON = {"x": 0, "y": 0}


def _fail(message: str, path: str) -> WireFormatError:
    return WireFormatError(message, path)


def read_int(value: Any, path: str, *, minimum: int | None = None) -> int:
    """An integer (not a bool) at ``path``, optionally at least ``minimum``."""
    if type(value) is not int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _fail(f"expected an integer, got {value!r}", path)
    if minimum is not None and value < minimum:
        raise _fail(f"expected an integer >= {minimum}, got {value}", path)
    return value


def read_str(value: Any, path: str, choices: frozenset[str] | None = None) -> str:
    """A string at ``path``, optionally one of ``choices``."""
    if not isinstance(value, str):
        raise _fail(f"expected a string, got {value!r}", path)
    if choices is not None and value not in choices:
        raise _fail(f"unknown value {value!r}; expected one of {', '.join(sorted(choices))}", path)
    return value


def read_dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"expected a JSON object, got {type(value).__name__}", path)
    return value


def read_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(f"expected a JSON array, got {type(value).__name__}", path)
    return value


def read_position(value: Any, path: str) -> Position:
    """A ``{"x", "y", "z"?}`` object; ``"z": null`` is the same as no ``z``."""
    if type(value) is not dict:
        raise _fail(f"expected a position object {{x, y[, z]}}, got {value!r}", path)
    try:
        x, y = value["x"], value["y"]
    except KeyError as missing:
        raise _fail(f"position lacks {missing.args[0]!r}", path) from None
    z = value.get("z")
    if type(x) is not int or type(y) is not int or (z is not None and type(z) is not int):
        raise _fail(f"position coordinates must be integers, got {value!r}", path)
    return Position(x, y, z)


def read_optional_position(value: Any, path: str) -> Position | None:
    return None if value is None else read_position(value, path)


def _read_cells(value: Any, path: str) -> Cells:
    return Cells(read_position(item, f"{path}[{i}]")
                 for i, item in enumerate(read_list(value, path)))


def _read_line(value: Any, path: str) -> LineInfo:
    obj = read_dict(value, path)
    positions = _read_cells(obj.get("positions"), f"{path}.positions")
    if not positions:
        raise _fail("a line needs at least one position", f"{path}.positions")
    player = read_int(obj.get("player"), f"{path}.player", minimum=1)
    length = obj.get("length", len(positions))
    direction = obj.get("direction")
    return LineInfo(positions, player, read_int(length, f"{path}.length"),
                    read_optional_position(direction, f"{path}.direction"))


def _read_region(value: Any, path: str) -> Territory:
    obj = read_dict(value, path)
    spaces = _read_cells(obj.get("spaces"), f"{path}.spaces")
    if not spaces:
        raise _fail("a region needs at least one space", f"{path}.spaces")
    controller = obj.get("controllingPlayer", 0)
    return Territory(spaces, read_int(0 if controller is None else controller,
                                      f"{path}.controllingPlayer"),
                     bool(obj.get("isDisconnected", True)))


def move_from_json(value: Any, path: str = "move") -> Move:
    """Read one wire-format Move (or a GameRecord MoveRecord, wire-format §6.2).

    Raises:
        WireFormatError: the move is not an object, names an unknown type, or a field
            it needs is missing or malformed; the error's ``path`` locates it.
    """
    obj = read_dict(value, path)
    raw_type = obj.get("type")
    move_type = _MOVE_TYPES.get(raw_type) if isinstance(raw_type, str) else None
    if move_type is None:
        raise _fail(f"unknown move type {raw_type!r}", f"{path}.type")
    player = read_int(obj.get("player"), f"{path}.player", minimum=1)

    def position_field(name: str, required: bool) -> Position | None:
        raw = obj.get(name)
        if raw is None:
            if required:
                raise _fail(f"a {move_type.value} move needs {name!r}", f"{path}.{name}")
            return None
        return read_position(raw, f"{path}.{name}")

    if move_type in SENTINEL_TARGET_TYPES:
        to = None
    else:
        to = position_field("to", move_type in _NEEDS_TO)
    from_pos = position_field("from", move_type in _NEEDS_FROM)
    target = position_field("captureTarget", move_type in _NEEDS_TARGET)

    placement_count = obj.get("placementCount")
    if placement_count is not None:
        placement_count = read_int(placement_count, f"{path}.placementCount", minimum=1)
    elif move_type is MoveType.PLACE_RING:
        placement_count = 1

    lines = obj.get("formedLines")
    formed_lines = () if lines is None else tuple(
        _read_line(item, f"{path}.formedLines[{i}]")
        for i, item in enumerate(read_list(lines, f"{path}.formedLines")))
    regions = obj.get("disconnectedRegions")
    disconnected = () if regions is None else tuple(
        _read_region(item, f"{path}.disconnectedRegions[{i}]")
        for i, item in enumerate(read_list(regions, f"{path}.disconnectedRegions")))
    # Line and territory payloads may be absent (vectors send only ``to`` or a
    # ``lineIndex``); whether such a move is applicable is the engine's call.
    if to is None and formed_lines and move_type in (MoveType.PROCESS_LINE,
                                                     MoveType.CHOOSE_LINE_OPTION):
        to = formed_lines[0].positions[0]
    if to is None and disconnected and move_type is MoveType.CHOOSE_TERRITORY_OPTION:
        to = disconnected[0].spaces[0]

    collapsed = obj.get("collapsedMarkers")
    context = obj.get("eliminationContext")
    mode = obj.get("recoveryMode")
    option = obj.get("recoveryOption", obj.get("option"))
    collapse = obj.get("collapsePositions", obj.get("collapse_positions"))
    extraction = obj.get("extractionStacks", obj.get("extraction_stacks"))
    think_time = obj.get("thinkTime", obj.get("thinkTimeMs"))
    extra = {key: val for key, val in obj.items() if key not in _KNOWN_FIELDS} or None
    placed = obj.get("placedOnStack")
    move_id = obj.get("id")
    return Move(
        type=move_type,
        player=player,
        to=to,
        from_pos=from_pos,
        capture_target=target,
        placement_count=placement_count,
        formed_lines=formed_lines,
        collapsed_markers=Cells() if collapsed is None
        else _read_cells(collapsed, f"{path}.collapsedMarkers"),
        disconnected_regions=disconnected,
        elimination_context=None if context is None
        else read_str(context, f"{path}.eliminationContext", _ELIMINATION_CONTEXTS),
        recovery_mode=None if mode is None
        else read_str(mode, f"{path}.recoveryMode", _RECOVERY_MODES),
        recovery_option=None if option is None
        else read_int(option, f"{path}.recoveryOption", minimum=1),
        collapse_positions=Cells() if collapse is None
        else _read_cells(collapse, f"{path}.collapsePositions"),
        extraction_stacks=() if extraction is None else tuple(
            read_str(item, f"{path}.extractionStacks[{i}]")
            for i, item in enumerate(read_list(extraction, f"{path}.extractionStacks"))),
        placed_on_stack=None if placed is None else bool(placed),
        id="" if move_id is None else str(move_id),
        timestamp=obj.get("timestamp") if isinstance(obj.get("timestamp"), str) else None,
        think_time=None if think_time is None else read_int(think_time, f"{path}.thinkTime"),
        move_number=None if obj.get("moveNumber") is None
        else read_int(obj["moveNumber"], f"{path}.moveNumber"),
        phase=obj.get("phase") if isinstance(obj.get("phase"), str) else None,
        extra=extra,
    )


def position_to_json(position: Position) -> dict[str, int]:
    if position.z is None:
        return {"x": position.x, "y": position.y}
    return {"x": position.x, "y": position.y, "z": position.z}


def _line_to_json(line: LineInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"positions": [position_to_json(p) for p in line.positions],
                           "player": line.player, "length": line.length or len(line.positions)}
    if line.direction is not None:
        out["direction"] = position_to_json(line.direction)
    return out


def _region_to_json(region: Territory) -> dict[str, Any]:
    return {"spaces": [position_to_json(p) for p in region.spaces],
            "controllingPlayer": region.controlling_player,
            "isDisconnected": region.is_disconnected}


def move_to_json(move: Move) -> dict[str, Any]:
    """The wire-format Move object (canonical names; ``recoveryOption``, not ``option``)."""
    out: dict[str, Any] = {"id": move.id, "type": move.type.value, "player": move.player}
    if move.from_pos is not None:
        out["from"] = position_to_json(move.from_pos)
    if move.to is not None:
        out["to"] = position_to_json(move.to)
    elif move.type in SENTINEL_TARGET_TYPES:
        out["to"] = _SENTINEL_JSON.copy()
    if move.capture_target is not None:
        out["captureTarget"] = position_to_json(move.capture_target)
    if move.placement_count is not None:
        out["placementCount"] = move.placement_count
    if move.placed_on_stack is not None:
        out["placedOnStack"] = move.placed_on_stack
    if move.formed_lines:
        out["formedLines"] = [_line_to_json(line) for line in move.formed_lines]
    if move.collapsed_markers:
        out["collapsedMarkers"] = [position_to_json(p) for p in move.collapsed_markers]
    if move.disconnected_regions:
        out["disconnectedRegions"] = [_region_to_json(r) for r in move.disconnected_regions]
    if move.elimination_context is not None:
        out["eliminationContext"] = move.elimination_context
    if move.recovery_mode is not None:
        out["recoveryMode"] = move.recovery_mode
    if move.recovery_option is not None:
        out["recoveryOption"] = move.recovery_option
    if move.collapse_positions:
        out["collapsePositions"] = [position_to_json(p) for p in move.collapse_positions]
    if move.type is MoveType.RECOVERY_SLIDE or move.extraction_stacks:
        out["extractionStacks"] = list(move.extraction_stacks)
    if move.extra:
        out.update(move.extra)
    if move.timestamp is not None:
        out["timestamp"] = move.timestamp
    if move.think_time is not None:
        out["thinkTime"] = move.think_time
    if move.move_number is not None:
        out["moveNumber"] = move.move_number
    if move.phase is not None:
        out["phase"] = move.phase
    return out
