"""The example service's logic as plain functions: an event and a session in, outputs out.

No Kafka and no environment here, so every function is tested with a database alone.
``count_game`` is the consumer handler: one row per config, counting games and noting
the model that was current when the last one arrived (looked up through a function the
wiring passes in, a table reader's ``value`` in the service). ``report`` is the
periodic task. A game whose config is not one of the registry's is poison: it can never
be handled, so it goes to the dead-letter topic and the stream goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringrift.configs import ALL_CONFIGS
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.outbox import Output
from ringrift.service.health import ReadinessCheck
from ringrift.service.metrics import counter, gauge
from services.example.tables import GameCount

log = logging.getLogger(__name__)
CONFIG_KEYS = frozenset(config.key for config in ALL_CONFIGS)
GAMES_COUNTED = counter("example", "games_counted", "Games counted, per config.", ["config"])
STORED_GAMES = gauge("example", "stored", "games", "Games in the count table, per config "
                     "(refreshed by the report task).", ["config"])

CurrentModels = Callable[[str], CurrentModel | None]
"""The current model of a config, or None before any is promoted."""


class GameCounter:
    """The consumer handler; ``current_models`` looks up the current model of a config."""

    def __init__(self, current_models: CurrentModels) -> None:
        self.current_models = current_models

    def __call__(self, event: Event[GameCompleted], session: Session) -> list[Output]:
        return count_game(event, session, self.current_models)


def count_game(event: Event[GameCompleted], session: Session,
               current_models: CurrentModels) -> list[Output]:
    """Count one game for its config.

    Raises:
        PoisonMessage: the game names a config the registry does not know, or its
            payload and envelope disagree on the config.
    """
    game = event.payload
    if game.config_key not in CONFIG_KEYS:
        raise PoisonMessage(f"game {game.game_id!r} has config {game.config_key!r}, which is "
                            f"not one of {', '.join(sorted(CONFIG_KEYS))}")
    if event.config_key != game.config_key:
        raise PoisonMessage(f"game {game.game_id!r}: envelope config {event.config_key!r} "
                            f"differs from the payload's {game.config_key!r}")
    model = current_models(game.config_key)
    row = session.get(GameCount, game.config_key)
    if row is None:
        row = GameCount(config_key=game.config_key, games=0)
        session.add(row)
    row.games += 1
    row.last_game_id = game.game_id
    row.current_model_id = model.model_id if model is not None else ""
    GAMES_COUNTED.labels(game.config_key).inc()
    return []


def report(session: Session) -> list[Output]:
    """The periodic task: export and log the counts (it publishes nothing)."""
    rows = list(session.scalars(select(GameCount).order_by(GameCount.config_key)))
    for row in rows:
        STORED_GAMES.labels(row.config_key).set(row.games)
    if rows:
        log.info("games counted: %s", ", ".join(f"{row.config_key}={row.games}" for row in rows))
    return []


def model_known(current_models: CurrentModels, config_key: str) -> ReadinessCheck:
    """A readiness check: ready once a current model of ``config_key`` is known."""
    def check() -> str | None:
        if current_models(config_key) is None:
            return f"no current model of {config_key} yet"
        return None
    return check
