"""The exporter's consumer handler as a plain function: a ``GameCompleted`` in, the game stored.

:class:`GameStore` checks the event (:func:`records.from_event`: a bad one is poison and
goes to the dead-letter topic with the reason, the stream goes on), stores the game once
(:func:`games.store_game`: a redelivered game is a no-op) and tells the shard writer how many
samples joined the game's queue (``on_stored``), so that a shard due by ``--shard-samples``
starts at once, not at the periodic check. It never replays: that is the shard writer's work
(:mod:`services.exporter.writer`), so ingest keeps up with many self-play workers. It
publishes nothing itself; ``ShardWritten`` leaves with the shard's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from ringrift.events.envelope import Event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.outbox import Output
from services.exporter import records
from services.exporter.games import Stored, store_game
from services.exporter.metrics import GAMES_DUPLICATE, GAMES_STORED
from services.exporter.shards import QueueKey
from services.exporter.tables import Origin

OnStored = Callable[[QueueKey, int], None]
"""Told the queue of each stored game and its samples (the shard writer's ``add``)."""


class GameStore:
    """The consumer handler of ``ringrift.selfplay.game-completed.v1``."""

    def __init__(self, on_stored: OnStored) -> None:
        self.on_stored = on_stored

    def __call__(self, event: Event[GameCompleted], session: Session) -> list[Output]:
        game = records.from_event(event)
        if store_game(session, game) is Stored.DUPLICATE:
            GAMES_DUPLICATE.labels(game.config_key).inc()
            return []
        GAMES_STORED.labels(game.config_key, Origin.SELFPLAY).inc()
        self.on_stored(QueueKey(game.config_key, Origin.SELFPLAY), game.num_samples)
        return []
