"""Move and position JSON (wire-format §1 and §5): read into ``Move``, write back.

Reading is strict about what the rules need and blind to what they do not: each
move type reads only the fields it uses (wire-format §5.2), validating their types,
players and positions. A field that does not apply to the move's type is never
validated: PY writes such fields with placeholder values (§5.5, e.g.
``placementCount: 0`` on a ``forced_elimination``, an arbitrary ``to`` on
``skip_placement``), so they are kept verbatim in ``Move.extra`` and written back
unchanged. Also tolerated: legacy type names, ``option`` for ``recoveryOption``,
snake_case recovery fields, a ``null`` or missing ``to`` on bookkeeping moves,
``"z": null`` on square positions. Every error is a ``WireFormatError`` naming the
path of the bad field.
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
from ringrift.game.wire_values import (
    read_dict,
    read_int,
    read_list,
    read_optional_position,
    read_position,
    read_str,
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

# The fields each move type uses (wire-format §5.2); a type not listed uses none
# (bookkeeping and meta moves: their ``to`` is a sentinel).
_CAPTURE_FIELDS = frozenset({"from", "captureTarget", "to"})
_RECOVERY_FIELDS = frozenset({"from", "to", "recoveryMode", "recoveryOption", "option",
                              "collapsePositions", "collapse_positions", "extractionStacks",
                              "extraction_stacks"})
_FIELDS_OF: dict[MoveType, frozenset[str]] = {
    MoveType.PLACE_RING: frozenset({"to", "placementCount", "placedOnStack"}),
    MoveType.MOVE_STACK: frozenset({"from", "to"}),
    MoveType.OVERTAKING_CAPTURE: _CAPTURE_FIELDS,
    MoveType.CONTINUE_CAPTURE_SEGMENT: _CAPTURE_FIELDS,
    MoveType.RECOVERY_SLIDE: _RECOVERY_FIELDS,
    MoveType.PROCESS_LINE: frozenset({"to", "formedLines"}),
    MoveType.CHOOSE_LINE_OPTION: frozenset({"to", "formedLines", "collapsedMarkers"}),
    MoveType.CHOOSE_TERRITORY_OPTION: frozenset({"to", "disconnectedRegions"}),
    MoveType.ELIMINATE_RINGS_FROM_STACK: frozenset({"to", "eliminationContext"}),
    MoveType.FORCED_ELIMINATION: frozenset({"to"}),
    # Legacy types without a canonical equivalent are never legal; keep their cells readable.
    MoveType.BUILD_STACK: frozenset({"from", "to"}),
    MoveType.LINE_FORMATION: frozenset({"to"}),
    MoveType.TERRITORY_CLAIM: frozenset({"to"}),
}
# Fields every move type uses.
_COMMON_FIELDS = frozenset({"id", "type", "player", "timestamp", "thinkTime", "thinkTimeMs",
                            "moveNumber", "phase"})
# Fields some type uses: on another type they are placeholders (kept in ``extra`` unless null).
_PAYLOAD_FIELDS = frozenset().union(*_FIELDS_OF.values())
_SENTINEL_JSON = {"x": 0, "y": 0}


def _read_cells(value: Any, path: str) -> Cells:
    return Cells(read_position(item, f"{path}[{i}]")
                 for i, item in enumerate(read_list(value, path)))


def _read_line(value: Any, path: str) -> LineInfo:
    obj = read_dict(value, path)
    positions = _read_cells(obj.get("positions"), f"{path}.positions")
    if not positions:
        raise WireFormatError("a line needs at least one position", f"{path}.positions")
    player = read_int(obj.get("player"), f"{path}.player", minimum=1)
    length = obj.get("length", len(positions))
    direction = obj.get("direction")
    return LineInfo(positions, player, read_int(length, f"{path}.length"),
                    read_optional_position(direction, f"{path}.direction"))


def _read_region(value: Any, path: str) -> Territory:
    obj = read_dict(value, path)
    spaces = _read_cells(obj.get("spaces"), f"{path}.spaces")
    if not spaces:
        raise WireFormatError("a region needs at least one space", f"{path}.spaces")
    controller = obj.get("controllingPlayer", 0)
    return Territory(spaces, read_int(0 if controller is None else controller,
                                      f"{path}.controllingPlayer"),
                     bool(obj.get("isDisconnected", True)))


def _split_fields(obj: dict[str, Any], move_type: MoveType) -> tuple[dict[str, Any],
                                                                      dict[str, Any] | None]:
    """The fields ``move_type`` uses, and the rest as ``Move.extra`` (None when empty).

    ``extra`` keeps unknown fields verbatim (diagnostics, ``rrn``, ``mctsPolicy``) and the
    payload fields of other move types when they hold a value (PY's placeholders, §5.5).
    """
    uses = _FIELDS_OF.get(move_type, frozenset())
    used: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, val in obj.items():
        if key in uses:
            used[key] = val
        elif key not in _COMMON_FIELDS and (key not in _PAYLOAD_FIELDS or val is not None):
            extra[key] = val
    return used, extra or None


def move_from_json(value: Any, path: str = "move") -> Move:
    """Read one wire-format Move (or a GameRecord MoveRecord, wire-format §6.2).

    Only the fields the move's type uses are read and validated (see the module
    docstring); the others are kept, unvalidated, in ``Move.extra``.

    Args:
        value: the decoded JSON object.
        path: where the move sits in its document, for error messages.

    Returns:
        The move.

    Raises:
        WireFormatError: the move is not an object, names an unknown type, or a field
            its type uses is missing or malformed; the error's ``path`` locates it.
    """
    obj = read_dict(value, path)
    raw_type = obj.get("type")
    move_type = _MOVE_TYPES.get(raw_type) if isinstance(raw_type, str) else None
    if move_type is None:
        raise WireFormatError(f"unknown move type {raw_type!r}", f"{path}.type")
    player = read_int(obj.get("player"), f"{path}.player", minimum=1)
    fields, extra = _split_fields(obj, move_type)

    def position_field(name: str, required: bool) -> Position | None:
        raw = fields.get(name)
        if raw is None:
            if required:
                raise WireFormatError(f"a {move_type.value} move needs {name!r}", f"{path}.{name}")
            return None
        return read_position(raw, f"{path}.{name}")

    to = position_field("to", move_type in _NEEDS_TO)
    from_pos = position_field("from", move_type in _NEEDS_FROM)
    target = position_field("captureTarget", move_type in _NEEDS_TARGET)

    placement_count = fields.get("placementCount")
    if placement_count is not None:
        placement_count = read_int(placement_count, f"{path}.placementCount", minimum=1)
    elif move_type is MoveType.PLACE_RING:
        placement_count = 1

    lines = fields.get("formedLines")
    formed_lines = () if lines is None else tuple(
        _read_line(item, f"{path}.formedLines[{i}]")
        for i, item in enumerate(read_list(lines, f"{path}.formedLines")))
    regions = fields.get("disconnectedRegions")
    disconnected = () if regions is None else tuple(
        _read_region(item, f"{path}.disconnectedRegions[{i}]")
        for i, item in enumerate(read_list(regions, f"{path}.disconnectedRegions")))
    # Line and territory payloads may be absent (vectors send only ``to`` or a
    # ``lineIndex``); whether such a move is applicable is the engine's call.
    if to is None and formed_lines:
        to = formed_lines[0].positions[0]
    if to is None and disconnected:
        to = disconnected[0].spaces[0]

    collapsed = fields.get("collapsedMarkers")
    context = fields.get("eliminationContext")
    mode = fields.get("recoveryMode")
    option = fields.get("recoveryOption", fields.get("option"))
    collapse = fields.get("collapsePositions", fields.get("collapse_positions"))
    extraction = fields.get("extractionStacks", fields.get("extraction_stacks"))
    think_time = obj.get("thinkTime", obj.get("thinkTimeMs"))
    placed = fields.get("placedOnStack")
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
