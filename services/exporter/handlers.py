"""The exporter's consumer handler as a plain function: a ``GameCompleted`` in, the game stored.

:class:`GameStore` checks the event (:func:`records.from_event`: a bad one is poison and
goes to the dead-letter topic with the reason, the stream goes on), stores the game once
(:func:`games.store_game`: a redelivered game is a no-op) and, when its queue now holds
``--shard-samples`` samples, tells the shard writer at once (``wake``), so the shard does not
wait for the periodic check. It never replays: that is the shard writer's work
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

Wake = Callable[[QueueKey], None]
"""Tells the shard writer that a queue may be due."""


class GameStore:
    """The consumer handler of ``ringrift.selfplay.game-completed.v1``.

    Args:
        shard_samples: pending samples at which a queue's shard is due.
        wake: called with the queue of a stored game once that many are pending.
    """

    def __init__(self, shard_samples: int, wake: Wake) -> None:
        self.shard_samples = shard_samples
        self.wake = wake

    def __call__(self, event: Event[GameCompleted], session: Session) -> list[Output]:
        game = records.from_event(event)
        outcome, queue = store_game(session, game)
        if outcome is Stored.DUPLICATE:
            GAMES_DUPLICATE.labels(game.config_key).inc()
            return []
        GAMES_STORED.labels(game.config_key, Origin.SELFPLAY).inc()
        if queue is not None and queue.pending_samples >= self.shard_samples:
            self.wake(QueueKey(game.config_key, Origin.SELFPLAY))
        return []
