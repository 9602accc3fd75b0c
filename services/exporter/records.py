"""What the exporter stores of a game, and how a stored game becomes a training game.

Two kinds of content, named in ``games.content_encoding``:

- ``envelope``: a ``GameCompleted`` event exactly as it arrived (its envelope bytes), so a
  game set aside later can be dead-lettered with the original record and replayed;
- ``game-record-json+zlib``: an imported GameRecord (wire-format §6) as JSON, compressed.

:func:`training_game` turns either back into a :class:`~ringrift.selfplay.play.SelfPlayGame`
by replaying it, the one form :func:`ringrift.selfplay.samples.game_samples` encodes. A
stored game that does not replay or whose fields disagree with the replay raises
:class:`UnusableGame`, whose message says why.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from ringrift.errors import PoisonMessage
from ringrift.game.errors import WireFormatError
from ringrift.game.record import GameRecord, dumps_record, loads_record
from ringrift.game.replay import ReplayResult
from ringrift.selfplay.imported import replay_for_training
from ringrift.selfplay.play import SelfPlayGame
from services.exporter.games import NewGame
from services.exporter.tables import Origin

ENVELOPE = "envelope"
GAME_RECORD = "game-record-json+zlib"
IMPORT_MODEL_ID = "import"
"""The seat model id of imported games (their players are not our models)."""


class UnusableGame(PoisonMessage):
    """A stored game that cannot be turned into training samples; the message says why."""


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
        produced_at=datetime.now(UTC))


def training_game(game_id: str, content_encoding: str, content: bytes) -> SelfPlayGame:
    """Replay a stored game into the training game its samples come from.

    Raises:
        UnusableGame: the content does not decode or replay, or disagrees with itself.
    """
    if content_encoding == GAME_RECORD:
        return _imported(game_id, content)
    raise UnusableGame(f"game {game_id!r} is stored as {content_encoding!r}, which this "
                       f"version does not read ({GAME_RECORD!r} only)")


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
