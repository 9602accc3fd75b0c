"""What the exporter stores of a game, and how a stored game becomes a training game.

Two kinds of content, named in ``games.content_encoding``:

- ``envelope``: a ``GameCompleted`` event exactly as it arrived (its envelope bytes), so a
  game set aside later can be dead-lettered with the original record and replayed;
- ``game-record-json+zlib``: an imported GameRecord (wire-format §6) as JSON, compressed.

:func:`from_event` is the ingest check of a ``GameCompleted``: its fields, and the record
codec's cheap check (no replay, no move parsing: ingest must keep up with many self-play
workers). Anything wrong there is a :class:`~ringrift.errors.PoisonMessage`: dead-lettered
at once. :func:`training_game` turns stored content back into a
:class:`~ringrift.selfplay.play.SelfPlayGame` by replaying it (the record codec's
``decode_game``, or the tolerant GameRecord replay for imports), the one form
:func:`ringrift.selfplay.samples.game_samples` encodes. A stored game that does not replay
or disagrees with its event raises :class:`UnusableGame`, whose message says why.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from ringrift.configs import ALL_CONFIGS, GameConfig
from ringrift.errors import PoisonMessage
from ringrift.events import envelope
from ringrift.events.envelope import Event
from ringrift.events.errors import MalformedEnvelope
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.topics import GAME_COMPLETED
from ringrift.game.errors import WireFormatError
from ringrift.game.record import GameRecord, dumps_record, loads_record
from ringrift.game.replay import ReplayResult
from ringrift.selfplay.imported import replay_for_training
from ringrift.selfplay.play import SelfPlayGame
from ringrift.selfplay.record_codec import check_record, decode_game
from services.exporter.games import NewGame
from services.exporter.tables import Origin

ENVELOPE = "envelope"
GAME_RECORD = "game-record-json+zlib"
IMPORT_MODEL_ID = "import"
"""The seat model id of imported games (their players are not our models)."""
MAX_GAME_ID = 128
_CONFIGS = {config.key: config for config in ALL_CONFIGS}


class UnusableGame(PoisonMessage):
    """A stored game that cannot be turned into training samples; the message says why."""


def from_event(event: Event[GameCompleted]) -> NewGame:
    """The game store's row of a ``GameCompleted`` event, after the ingest checks.

    Raises:
        PoisonMessage: a field is missing or wrong, or the record fails the codec's check;
            the message names the game and what is wrong.
    """
    game = event.payload
    name = f"game {game.game_id!r}"
    if not game.game_id or len(game.game_id) > MAX_GAME_ID:
        raise PoisonMessage(f"{name} (event {event.event_id}): a game id of 1 to "
                            f"{MAX_GAME_ID} characters is required")
    config = _CONFIGS.get(game.config_key)
    if config is None:
        raise PoisonMessage(f"{name} has config {game.config_key!r}, which is not one of "
                            f"{', '.join(sorted(_CONFIGS))}")
    if event.config_key != game.config_key:
        raise PoisonMessage(f"{name}: envelope config {event.config_key!r} differs from the "
                            f"payload's {game.config_key!r}")
    _check_seats(name, game, config)
    if game.num_moves < 1:
        raise PoisonMessage(f"{name} has no moves (num_moves {game.num_moves})")
    decisions = check_record(game.record, game.record_encoding, num_moves=game.num_moves)
    return NewGame(
        game_id=game.game_id, config_key=game.config_key, origin=Origin.SELFPLAY,
        content_encoding=ENVELOPE, content=envelope.encode(event), num_moves=game.num_moves,
        num_samples=decisions if game.terminal else 0,
        seat_model_ids=list(game.seat_model_ids), produced_at=event.produced_at,
        record=game.record, event_id=event.event_id)


def _check_seats(name: str, game: GameCompleted, config: GameConfig) -> None:
    seats = config.num_players
    if len(game.seat_model_ids) != seats:
        raise PoisonMessage(f"{name} names {len(game.seat_model_ids)} seat model(s); a "
                            f"{config.key} game has {seats} seats")
    if game.terminal and (len(game.ranking) != seats
                          or not all(1 <= rank <= seats for rank in game.ranking)):
        raise PoisonMessage(f"{name} has ranking {list(game.ranking)}; a finished {config.key} "
                            f"game ranks each of its {seats} seats 1..{seats}")


def imported_game(result: ReplayResult, game: SelfPlayGame) -> NewGame:
    """The game store's row of a completed, replayed GameRecord (``ringrift exporter import``).

    Args:
        result: the replay of the record (completed).
        game: the training game :func:`replay_for_training` made of it.
    """
    record = result.record
    assert record is not None, "only completed replays become games"
    text = dumps_record(record).encode()
    return NewGame(
        game_id=game.game_id, config_key=record.config_key, origin=Origin.IMPORT,
        content_encoding=GAME_RECORD, content=zlib.compress(text, 6),
        num_moves=len(record.moves), num_samples=len(game.decisions),
        seat_model_ids=[IMPORT_MODEL_ID] * record.num_players,
        produced_at=datetime.now(UTC), record=text)


def training_game(game_id: str, content_encoding: str, content: bytes) -> SelfPlayGame:
    """Replay a stored game into the training game its samples come from.

    Raises:
        UnusableGame: the content does not decode or replay, or disagrees with itself.
    """
    if content_encoding == ENVELOPE:
        return _self_played(game_id, content)
    if content_encoding == GAME_RECORD:
        return _imported(game_id, content)
    raise UnusableGame(f"game {game_id!r} is stored as {content_encoding!r}, which this "
                       f"version does not read ({ENVELOPE!r}, {GAME_RECORD!r})")


def _self_played(game_id: str, content: bytes) -> SelfPlayGame:
    try:
        game: GameCompleted = envelope.decode(content, GAME_COMPLETED).payload
    except MalformedEnvelope as error:
        raise UnusableGame(f"stored event of game {game_id!r} is unreadable: {error}") from error
    played = decode_game(game.record, game.record_encoding)  # RecordError: poison too
    found = []
    if played.game_id != game.game_id:
        found.append(f"the record is game {played.game_id!r}")
    if len(played.moves) != game.num_moves:
        found.append(f"the record has {len(played.moves)} moves, the event says {game.num_moves}")
    if played.truncated == game.terminal:
        found.append(f"the record is {'truncated' if played.truncated else 'finished'}, the "
                     f"event says terminal={game.terminal}")
    if game.terminal and tuple(game.ranking) != played.ranking:
        found.append(f"the replay ranks {list(played.ranking)}, the event {list(game.ranking)}")
    if played.final_state.config.key != game.config_key:
        found.append(f"the record is a {played.final_state.config.key} game")
    if found:
        raise UnusableGame(f"game {game_id!r}: " + "; ".join(found))
    return played


def _imported(game_id: str, content: bytes) -> SelfPlayGame:
    try:
        record: GameRecord = loads_record(zlib.decompress(content), f"game {game_id}")
    except (zlib.error, WireFormatError) as error:
        raise UnusableGame(f"stored record of game {game_id!r} is unreadable: {error}") from error
    result, game = replay_for_training(record, game_id=game_id, source=f"game {game_id}")
    if game is None:
        raise UnusableGame(f"stored record of game {game_id!r} no longer replays to a "
                           f"completed game: {result.result} ({result.error or 'no winner'})")
    return game
