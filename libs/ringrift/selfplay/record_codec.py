"""The self-play game record codec: a finished game as the bytes of ``GameCompleted.record``.

Encoding ``ringrift-selfplay-record/v1+zlib`` is the zlib compression of::

    b"RRSP" 0x01                      magic and format version
    uint32 json_length                little-endian
    json_length bytes                 the game as a GameRecord (wire-format §6, UTF-8 JSON)
    uint32 D                          searched positions (decisions)
    uint32[D] move_index              the move played at each decision, increasing
    uint32[D] legal_count             legal moves at that position
    float32[sum(legal_count)]         each decision's improved policy, concatenated

The moves are the engine's wire moves (the same GameRecord ``ringrift rules replay`` and the
exporter's file import read), so a record is self-describing; the policies are float32 over
the position's legal moves in the order ``rules.legal_moves`` lists them, exactly the array
:func:`ringrift.selfplay.samples.game_samples` trains on. The header's ``metadata`` holds the
model of each seat (``seat_model_ids``), the final ``ranking`` and ``truncated``.

:func:`decode_record` reads the bytes without replaying (cheap: header, moves, policies);
:func:`decode_game` also replays the moves from the standard initial position (no pie rule,
as self-play starts) and rebuilds the :class:`~ringrift.selfplay.play.SelfPlayGame`, with each
decision's state and legal moves, checking that every recorded count, move and ranking agrees
with the rules. ``game_samples(decode_game(data, encoding), encoder)`` therefore gives the
same samples as ``game_samples(game, encoder)`` on the game that was encoded.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ringrift.errors import PoisonMessage
from ringrift.game.errors import IllegalMoveError, WireFormatError
from ringrift.game.record import GAME_OUTCOMES, GameRecord, record_from_json, record_to_json
from ringrift.selfplay.play import Decision, SelfPlayGame

RECORD_ENCODING = "ringrift-selfplay-record/v1+zlib"
"""The one encoding this module writes (``GameCompleted.record_encoding``)."""
_MAGIC = b"RRSP\x01"
_UINT32 = struct.Struct("<I")
MAX_RECORD_BYTES = 64 * 1024 * 1024
"""Decompressed size above which a record is refused (a guard against zlib bombs)."""


class RecordError(PoisonMessage):
    """A record that cannot be decoded or does not replay; the message says why."""


@dataclass(frozen=True)
class EncodedRecord:
    """A game's record bytes and the encoding to put beside them in ``GameCompleted``."""

    data: bytes
    encoding: str = RECORD_ENCODING


@dataclass(frozen=True)
class RecordedDecision:
    """One searched position as recorded: where it was and the policy the search gave."""

    move_index: int
    """Index in the move list of the move played from this position."""
    policy: np.ndarray
    """float32 improved policy over the position's legal moves (rules' order)."""


@dataclass(frozen=True)
class DecodedRecord:
    """A record read back without replaying it."""

    record: GameRecord
    decisions: tuple[RecordedDecision, ...]

    @property
    def seat_model_ids(self) -> tuple[str, ...]:
        return tuple(str(m) for m in self.record.metadata.get("seat_model_ids") or ())

    @property
    def ranking(self) -> tuple[int, ...]:
        return tuple(int(r) for r in self.record.metadata.get("ranking") or ())

    @property
    def truncated(self) -> bool:
        return bool(self.record.metadata.get("truncated", False))


def game_record(game: SelfPlayGame, seat_model_ids: Sequence[str]) -> GameRecord:
    """The GameRecord of a finished self-play game (moves, winner, outcome, metadata).

    Args:
        game: a game from :func:`ringrift.selfplay.play_games` (or the service's pool).
        seat_model_ids: the model that played each seat, seat 1 first.
    """
    final = game.final_state
    reason = None if game.truncated else final.victory_reason
    return GameRecord(
        board_type=final.config.board_type, num_players=final.num_players,
        moves=list(game.moves), id=game.game_id,
        winner=None if game.truncated else final.winner,
        outcome=reason if reason in GAME_OUTCOMES else None,
        metadata={"seat_model_ids": list(seat_model_ids), "truncated": game.truncated,
                  "victory_reason": reason, "ranking": list(game.ranking),
                  "evaluations": game.evaluations})


def encode_game(game: SelfPlayGame, seat_model_ids: Sequence[str]) -> EncodedRecord:
    """Encode a finished game (``RECORD_ENCODING``).

    Args:
        game: the game; each decision's policy is over its legal moves in the rules' order.
        seat_model_ids: the model that played each seat, seat 1 first.

    Returns:
        The compressed record.

    Raises:
        ValueError: ``seat_model_ids`` does not have one id per seat.
    """
    if len(seat_model_ids) != game.final_state.num_players:
        raise ValueError(f"{len(seat_model_ids)} seat model ids for a "
                         f"{game.final_state.num_players}-player game")
    header = json.dumps(record_to_json(game_record(game, seat_model_ids)),
                        separators=(",", ":")).encode()
    move_indices = _decision_move_indices(game)
    counts = np.array([len(d.moves) for d in game.decisions], dtype="<u4")
    policies = [np.asarray(d.policy, dtype="<f4") for d in game.decisions]
    for decision, policy in zip(game.decisions, policies, strict=True):
        if policy.shape != (len(decision.moves),):
            raise ValueError(f"a policy of shape {policy.shape} over {len(decision.moves)} moves")
    body = b"".join([
        _MAGIC, _UINT32.pack(len(header)), header, _UINT32.pack(len(counts)),
        np.asarray(move_indices, dtype="<u4").tobytes(), counts.tobytes(),
        (np.concatenate(policies) if policies else np.zeros(0, "<f4")).tobytes()])
    return EncodedRecord(zlib.compress(body, 6))


def decode_record(data: bytes, encoding: str = RECORD_ENCODING) -> DecodedRecord:
    """Read a record's header, moves and policies (no replay).

    Raises:
        RecordError: unknown encoding, damaged bytes, or fields that disagree.
    """
    header, indices, counts, probs = _read_layout(data, encoding)
    try:
        record = record_from_json(json.loads(header), "record")
    except (ValueError, WireFormatError) as error:
        raise RecordError(f"record header unreadable: {error}") from error
    _check_layout(record, indices, counts, probs)
    ends = np.cumsum(counts, dtype=np.int64)
    decisions = tuple(RecordedDecision(int(index), probs[end - n:end].copy())
                      for index, n, end in zip(indices, counts, ends, strict=True))
    return DecodedRecord(record, decisions)


def check_record(data: bytes, encoding: str = RECORD_ENCODING, *, num_moves: int) -> int:
    """The cheap checks of a record for ingest; returns its number of searched positions.

    Decompresses and checks the binary part as :func:`decode_record` does, and that every
    policy is a distribution (finite, >= 0, summing to 1), but does not parse the moves
    of the JSON header (that costs ~100x more; :func:`decode_game` does it, and replays).

    Args:
        data, encoding: ``GameCompleted.record`` and ``.record_encoding``.
        num_moves: the game's move count (``GameCompleted.num_moves``).

    Raises:
        RecordError: as :func:`decode_record`, naming what is wrong.
    """
    _, indices, counts, probs = _read_layout(data, encoding)
    _check_decisions(indices, counts, probs, num_moves)
    if not len(counts):
        return 0
    # Few numpy calls on purpose: these arrays are small, so each call's overhead counts.
    ends = np.cumsum(counts, dtype=np.int64)
    sums = np.add.reduceat(probs, np.concatenate(([0], ends[:-1])), dtype=np.float64)
    if not probs.min() >= 0:  # NaN fails this too
        raise RecordError("record has a policy value that is negative or not finite")
    worst = np.abs(sums - 1.0)
    if not worst.max() <= 1e-3:  # an infinite value fails here
        raise RecordError(f"record has a policy summing to {sums[worst.argmax()]:.4f}, not 1")
    return len(indices)


def _read_layout(data: bytes, encoding: str) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """(header JSON bytes, move indices, legal counts, policy values) of a record."""
    if encoding != RECORD_ENCODING:
        raise RecordError(f"unknown record encoding {encoding!r}; this version reads "
                          f"{RECORD_ENCODING!r}")
    body = _decompress(data)
    if not body.startswith(_MAGIC):
        raise RecordError("not a self-play record (bad magic or format version)")
    try:
        (header_len,) = _UINT32.unpack_from(body, len(_MAGIC))
    except struct.error as error:
        raise RecordError(f"record header unreadable: {error}") from error
    offset = len(_MAGIC) + 4
    header = body[offset:offset + header_len]
    offset += header_len
    try:
        (count,) = _UINT32.unpack_from(body, offset)
        indices = np.frombuffer(body, "<u4", count, offset + 4)
        counts = np.frombuffer(body, "<u4", count, offset + 4 + 4 * count)
        probs = np.frombuffer(body, "<f4", offset=offset + 4 + 8 * count)
    except (struct.error, ValueError) as error:
        raise RecordError(f"record truncated in its policies: {error}") from error
    return header, indices, counts, probs


def decode_game(data: bytes, encoding: str = RECORD_ENCODING, *,
                rules: Any = None) -> SelfPlayGame:
    """Decode and replay a record into the game it was encoded from.

    Args:
        data: ``GameCompleted.record``.
        encoding: ``GameCompleted.record_encoding``.
        rules: the rules to replay with; default the RingRift engine.

    Returns:
        The game: moves, decisions (state, legal moves, policy), ranking, truncated,
        final state. ``evaluations`` is the recorded count.

    Raises:
        RecordError: undecodable, or the moves/counts/ranking disagree with the rules.
    """
    return replay_game(decode_record(data, encoding), rules=rules)


def replay_game(decoded: DecodedRecord, *, rules: Any = None) -> SelfPlayGame:
    """Replay a decoded record (see :func:`decode_game`)."""
    import ringrift.game as engine
    from ringrift.configs import GameConfig

    rules = engine if rules is None else rules
    record = decoded.record
    state = engine.initial_state(GameConfig(record.board_type, record.num_players))
    at = {d.move_index: d for d in decoded.decisions}
    decisions: list[Decision] = []
    try:
        for index, move in enumerate(record.moves):
            if index in at:
                legal = rules.legal_moves(state)
                policy = at[index].policy
                if len(legal) != len(policy):
                    raise RecordError(f"move {index}: the record has a policy over "
                                      f"{len(policy)} moves, the rules give {len(legal)}")
                if move not in legal:
                    raise RecordError(f"move {index} is not legal at its position")
                decisions.append(Decision(state, legal, policy, index))
            state = rules.apply_move(state, move)
    except IllegalMoveError as error:
        raise RecordError(f"record {record.id!r} does not replay: {error}") from error
    ranking = decoded.ranking
    if not decoded.truncated:
        if not state.is_terminal:
            raise RecordError(f"record {record.id!r} is not truncated but its last position "
                              "is not terminal")
        if tuple(rules.final_ranking(state)) != ranking:
            raise RecordError(f"record {record.id!r}: ranking {list(ranking)} differs from "
                              f"the replay's {list(rules.final_ranking(state))}")
    return SelfPlayGame(record.id, list(record.moves), decisions, ranking, decoded.truncated,
                        int(record.metadata.get("evaluations") or 0), state)


def _decision_move_indices(game: SelfPlayGame) -> list[int]:
    indices = [decision.move_index for decision in game.decisions]
    if any(b <= a for a, b in zip(indices, indices[1:], strict=False)) or \
            (indices and not 0 <= indices[0] <= indices[-1] < len(game.moves)):
        raise ValueError(f"decision move indices {indices} are not increasing move numbers")
    return indices


def _decompress(data: bytes) -> bytes:
    try:
        inflater = zlib.decompressobj()
        body = inflater.decompress(data, MAX_RECORD_BYTES)
    except zlib.error as error:
        raise RecordError(f"record is not valid zlib data: {error}") from error
    if inflater.unconsumed_tail:
        raise RecordError(f"record inflates past {MAX_RECORD_BYTES} bytes")
    if not inflater.eof:
        raise RecordError("record is truncated (zlib stream incomplete)")
    return body


def _check_layout(record: GameRecord, indices: np.ndarray, counts: np.ndarray,
                  probs: np.ndarray) -> None:
    _check_decisions(indices, counts, probs, len(record.moves))
    seats = record.metadata.get("seat_model_ids")
    if not isinstance(seats, list) or len(seats) != record.num_players:
        raise RecordError(f"record metadata needs seat_model_ids with {record.num_players} "
                          "entries")


def _check_decisions(indices: np.ndarray, counts: np.ndarray, probs: np.ndarray,
                     num_moves: int) -> None:
    total = int(counts.sum(dtype=np.int64))
    if total != len(probs):
        raise RecordError(f"record holds {len(probs)} policy values, its counts say {total}")
    if len(indices) and (int(indices[-1]) >= num_moves or (
            len(indices) > 1 and np.diff(indices.astype(np.int64)).min() <= 0)):
        raise RecordError("record's decision move indices are not increasing move numbers")
    if len(counts) and counts.min() < 2:
        raise RecordError("record has a decision with fewer than two legal moves")
