"""Applying received moves safely, and replaying GameRecords into one result each.

A move that arrives from outside (a record, a request, another engine) first has
every cell checked against the board, so an off-board cell is named as such; the
engine's ``apply_move`` then refuses a finished game, the wrong player and any move
that is not among its legal moves (resolving under-specified record moves, such as
an elimination without ``eliminationContext``, to the engine's own move).

``replay_record`` and ``replay_jsonl`` are what every reader of GameRecords uses
(``ringrift rules replay``, the exporter's import): one ``ReplayResult`` per record,
never stopping at a bad one. A record that ends mid-turn where PY's after-every-move
victory check holds (rules §12.1, §16 D3) is a completed game with PY's winner and
reason, ``ended_by == "after_move_check"``; one that ends where no condition holds is
an incomplete game, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ringrift.configs import GameConfig
from ringrift.game import engine
from ringrift.game.errors import IllegalMoveError, WireFormatError
from ringrift.game.fingerprint import compact_hash, fingerprint, simple_hash
from ringrift.game.move import Move, Position
from ringrift.game.record import GameRecord, loads_record
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


def victory_reason(state: GameState) -> str | None:
    """The game-outcome name (wire-format §3) of a finished state, ``None`` while it runs."""
    return state.victory_reason if state.is_terminal else None


def final_summary(state: GameState) -> dict[str, object]:
    """Status, winner, victory reason, fingerprint and compact hash of a (final) state."""
    wire: WireState = state.to_wire()
    text = fingerprint(wire)
    return {"status": wire.status, "winner": state.winner, "victoryReason": victory_reason(state),
            "fingerprint": text, "hash": simple_hash(text)}


# ``ReplayResult.result`` values, and how a completed game ended (``ended_by``).
COMPLETED, INCOMPLETE, ILLEGAL, UNREADABLE = "completed", "incomplete", "illegal", "unreadable"
TURN_END, AFTER_MOVE_CHECK, HOST = "turn_end", "after_move_check", "host"
_HOST_REASONS = frozenset({"resignation", "timeout"})


@dataclass(slots=True)
class ReplayResult:
    """What replaying one record gave.

    Fields:
        source: where the record came from (``"games.jsonl:3"``, ``"game.json"``).
        result: ``completed``, ``incomplete`` (the moves end before the game does),
            ``illegal`` (a move the rules refuse) or ``unreadable`` (malformed record).
        record: the record read (``None`` when unreadable).
        moves_applied: legal moves applied (the index of the illegal move, if any).
        winner, victory_reason: of a completed game (rules §12, wire-format §3).
        ended_by: of a completed game: ``turn_end`` (the engine's own check),
            ``after_move_check`` (PY's mid-turn end, rules §16 D3) or ``host``
            (``resign``/``timeout``).
        illegal_at: index of the first illegal move.
        error: why the record is illegal or unreadable.
        final_state: the state after the last legal move (finished when the after-move
            check ended the game); ``None`` when unreadable.
        mismatches: where the record's header (winner, outcome, finalStateHash) disagrees
            with the replay.
    """

    source: str
    result: str
    record: GameRecord | None = None
    moves_applied: int = 0
    winner: int | None = None
    victory_reason: str | None = None
    ended_by: str | None = None
    illegal_at: int | None = None
    error: str | None = None
    final_state: GameState | None = None
    mismatches: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        """The one-line JSON summary ``ringrift rules replay`` prints for this game."""
        out: dict[str, object] = {"game": self.record.id if self.record else None,
                                  "source": self.source, "result": self.result}
        if self.record is not None:
            out["moves"] = len(self.record.moves)
        if self.result == COMPLETED:
            out.update(winner=self.winner, victoryReason=self.victory_reason,
                       endedBy=self.ended_by)
        elif self.result == INCOMPLETE and self.final_state is not None:
            out["phase"] = self.final_state.phase
        elif self.result == ILLEGAL:
            out["illegalAt"] = self.illegal_at
        if self.error:
            out["error"] = self.error
        if self.final_state is not None:
            out["hash"] = compact_hash(self.final_state)
        if self.mismatches:
            out["mismatch"] = list(self.mismatches)
        return out


@dataclass(slots=True)
class ReplayTotals:
    """Counts over many ``ReplayResult``s (the last line of a JSONL replay)."""

    games: int = 0
    by_result: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (COMPLETED, INCOMPLETE, ILLEGAL, UNREADABLE), 0))
    after_move_check: int = 0
    mismatched: int = 0

    def add(self, result: ReplayResult) -> None:
        self.games += 1
        self.by_result[result.result] += 1
        self.after_move_check += int(result.ended_by == AFTER_MOVE_CHECK)
        self.mismatched += int(bool(result.mismatches))

    @property
    def clean(self) -> bool:
        """Every game replayed (completed or incomplete) and agreed with its header."""
        return (self.by_result[ILLEGAL] + self.by_result[UNREADABLE] + self.mismatched) == 0

    def summary(self) -> dict[str, object]:
        return {"totals": True, "games": self.games, **self.by_result,
                "afterMoveCheck": self.after_move_check, "mismatched": self.mismatched}


def replay_record(record: GameRecord, *, source: str = "",
                  on_step: Callable[[ReplayStep], None] | None = None) -> ReplayResult:
    """Replay ``record`` and say how it ended (see the module docstring); never raises
    for bad input.

    Args:
        record: the record (or trace) to replay.
        source: where it came from, for messages.
        on_step: called with each applied move and the state after it (a sample writer,
            a fingerprint printer).

    Returns:
        The result; ``illegal`` and ``unreadable`` results carry the reason.
    """
    try:
        state = start_state(record)
    except WireFormatError as error:
        return ReplayResult(source, UNREADABLE, record, error=str(error))
    applied = 0
    try:
        for step in replay(record):
            state = step.state
            applied += 1
            if on_step is not None:
                on_step(step)
    except IllegalMoveError as error:
        return ReplayResult(source, ILLEGAL, record, applied, illegal_at=applied,
                            error=str(error), final_state=state)
    ended_by = None
    if state.is_terminal:
        ended_by = HOST if state.victory_reason in _HOST_REASONS else TURN_END
    else:
        finished = engine.end_by_after_move_check(state)
        if finished is not None:
            state, ended_by = finished, AFTER_MOVE_CHECK
    if ended_by is None:
        return ReplayResult(source, INCOMPLETE, record, applied, final_state=state,
                            mismatches=_mismatches(record, state))
    return ReplayResult(source, COMPLETED, record, applied, state.winner, state.victory_reason,
                        ended_by, final_state=state, mismatches=_mismatches(record, state))


def _mismatches(record: GameRecord, state: GameState) -> tuple[str, ...]:
    found = []
    if record.winner is not None and record.winner != state.winner:
        found.append(f"the record names winner {record.winner}, the replay "
                     f"{state.winner or 'none'}")
    reason = victory_reason(state)
    if record.outcome is not None and record.outcome != reason:
        found.append(f"the record's outcome is {record.outcome}, the replay's {reason or 'none'}")
    if record.final_state_hash and record.final_state_hash != compact_hash(state):
        found.append(f"the final state hash is {compact_hash(state)}, the record says "
                     f"finalStateHash {record.final_state_hash}")
    return tuple(found)


def replay_jsonl(path: str | Path) -> Iterator[ReplayResult]:
    """One ``ReplayResult`` per non-blank line of a JSONL file of GameRecords, in order.

    A line that is not a readable record gives an ``unreadable`` result and the next
    line is read; ``source`` is ``"<path>:<line number>"``.

    Raises:
        OSError: the file cannot be opened or read.
    """
    for source, record in read_jsonl(path):
        if isinstance(record, WireFormatError):
            yield ReplayResult(source, UNREADABLE, error=str(record))
        else:
            yield replay_record(record, source=source)


def read_jsonl(path: str | Path) -> Iterator[tuple[str, GameRecord | WireFormatError]]:
    """``(source, record)`` per non-blank line of a JSONL file of GameRecords, in order; a
    line that is not a readable record gives its ``WireFormatError`` instead of a record
    (for readers that replay in their own way, e.g. the exporter's import).

    Raises:
        OSError: the file cannot be opened or read.
    """
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            source = f"{path}:{number}"
            try:
                yield source, loads_record(line, source)
            except WireFormatError as error:
                yield source, error
