"""The selfplay service's decisions as plain functions: which config, which model, pause or
play, and what to publish for a finished game. No Kafka and no environment here.

- **Configs.** :class:`ConfigChooser` gives each new game a config in proportion to the
  curriculum weights (stride scheduling: deterministic, so equal weights alternate exactly);
  a weight of 0 means no games; before any weights, the ``--configs`` share equally.
- **Models.** :class:`ModelSlots` follows the current model of each config: a new game gets
  the model current when it starts (the uniform evaluator before the first promotion), so a
  promotion reaches the next game that starts; games in flight keep the model they started
  with. One network per config is held for new games; an older one lives only as long as
  the games that still play it. A model that cannot be loaded is logged, reported by
  readiness and skipped (transient failures are retried); the previous model plays on.
- **Publishing.** :func:`publish_games` numbers finished games from the replica's durable
  sequence in the transaction that enqueues their ``GameCompleted`` events, so a game id is
  used exactly when its game is published.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.duration_pb2 import Duration
from sqlalchemy.orm import Session

from ringrift.configs import GameConfig
from ringrift.errors import PoisonMessage
from ringrift.evaluation import PlayModel, load_for_play
from ringrift.events.envelope import Event, derive_event_id, new_event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.ops.v1.ops_pb2 import CurriculumWeights
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.outbox import Output
from ringrift.events.topics import GAME_COMPLETED
from ringrift.models import CheckpointError
from ringrift.selfplay import SelfPlayGame
from ringrift.selfplay.record_codec import encode_game
from ringrift.storage.artifacts import ArtifactRef
from ringrift.training.targets import ranking_to_values
from services.selfplay.settings import CONFIG_KEYS
from services.selfplay.tables import GameSequence

log = logging.getLogger(__name__)
SERVICE = "selfplay"
ENVELOPE_MARGIN_BYTES = 4096
"""Room left under the broker's record limit for the envelope and the record's headers."""


# ---- configs ------------------------------------------------------------------------

def config_weights(curriculum: CurriculumWeights | None,
                   default_configs: Sequence[str]) -> dict[str, float]:
    """The share of new games per config: the curriculum's positive weights, or equal shares
    of ``default_configs`` before any weights arrived (unknown configs are left out)."""
    if curriculum is None or not curriculum.weights:
        return dict.fromkeys(default_configs, 1.0)
    weights = {}
    for entry in curriculum.weights:
        if entry.config_key not in CONFIG_KEYS:
            log.warning("curriculum weight for unknown config %r ignored", entry.config_key)
        elif math.isfinite(entry.weight) and entry.weight > 0:
            weights[entry.config_key] = float(entry.weight)
    return weights


class ConfigChooser:
    """The config of each new game, in proportion to the weights (stride scheduling)."""

    def __init__(self, default_configs: Sequence[str]) -> None:
        self.default_configs = tuple(default_configs)
        self._weights: dict[str, float] = {}
        self._started: Counter[str] = Counter()
        self._seen: object = object()

    def next(self, curriculum: CurriculumWeights | None) -> str | None:
        """The config of the next game; None when every weight is 0 (no games now)."""
        if curriculum is not self._seen:  # the table holds one object per value
            self._seen = curriculum
            weights = config_weights(curriculum, self.default_configs)
            if weights != self._weights:  # new weights: shares count from now on
                log.info("configs of new games: %s", ", ".join(
                    f"{k} {w:g}" for k, w in weights.items()) or "none (every weight is 0)")
                self._weights, self._started = weights, Counter()
        weights = self._weights
        if not weights:
            return None
        key = min(weights, key=lambda k: ((self._started[k] + 1) / weights[k],
                                          CONFIG_KEYS.index(k)))
        self._started[key] += 1
        return key


# ---- models ------------------------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    """The model new games of a config start with."""

    model: PlayModel
    revision: int
    """The CurrentModel revision (0: no model promoted yet, the uniform evaluator)."""
    promoted_at: datetime | None = None


Loader = Callable[[CurrentModel, GameConfig], PlayModel]
CurrentModels = Callable[[str], "Event[CurrentModel] | None"]


def artifact_loader(device: str | None) -> Loader:
    """Load a CurrentModel's weights with the one loader for play (sha256-verified)."""
    def load(current: CurrentModel, config: GameConfig) -> PlayModel:
        if current.config_key and current.config_key != config.key:
            raise PoisonMessage(f"current model {current.model_id!r} is for "
                                f"{current.config_key}, but keyed as {config.key}")
        if not current.weights.uri:
            raise PoisonMessage(f"current model {current.model_id!r} of {config.key} has no "
                                "weights artifact")
        ref = ArtifactRef(current.weights.uri, current.weights.sha256,
                          int(current.weights.size_bytes))
        return load_for_play(ref, config=config, device=device)
    return load


class ModelSlots:
    """The current model of each config, loaded once per revision, for new games."""

    def __init__(self, current: CurrentModels, load: Loader, *, retry_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._current, self._load, self._retry_s, self._clock = current, load, retry_s, clock
        self._slots: dict[str, Slot] = {}
        self._failed: dict[tuple[str, int], tuple[str, float | None]] = {}
        """(config, revision) -> (why, when to retry; None = never)."""

    def for_new_game(self, config_key: str) -> Slot:
        """The model a game of ``config_key`` starting now plays with."""
        slot = self._slots.get(config_key)
        if slot is None:
            slot = self._slots[config_key] = Slot(load_for_play(None, config=GameConfig.parse(
                config_key)), 0)
        event = self._current(config_key)
        if event is None or int(event.payload.revision) == slot.revision:
            return slot
        revision = int(event.payload.revision)
        failure = self._failed.get((config_key, revision))
        if failure is not None and (failure[1] is None or self._clock() < failure[1]):
            return slot
        try:
            model = self._load(event.payload, GameConfig.parse(config_key))
        except (CheckpointError, PoisonMessage) as error:
            self._fail(config_key, event.payload, str(error), retry=False)
            return slot
        except Exception as error:  # store unreachable, disk full, ...: try again later
            self._fail(config_key, event.payload, f"{type(error).__name__}: {error}", retry=True)
            return slot
        self._failed = {k: v for k, v in self._failed.items() if k[0] != config_key}
        log.info("%s: new games play model %s (revision %d, was %s)", config_key,
                 model.model_id, revision, slot.model.model_id)
        self._slots[config_key] = new = Slot(model, revision, event.produced_at)
        return new

    def model_ages(self) -> dict[str, float]:
        """Seconds since each config's model for new games was promoted (promoted ones only)."""
        now = datetime.now(UTC)
        return {key: (now - slot.promoted_at).total_seconds()
                for key, slot in self._slots.items() if slot.promoted_at is not None}

    def problems(self) -> str | None:
        """Readiness: the current models that could not be loaded (None when all did)."""
        failed = [f"{key} revision {rev}: {why}"
                  for (key, rev), (why, _) in tuple(self._failed.items())]
        return "; ".join(failed) if failed else None

    def _fail(self, config_key: str, current: CurrentModel, why: str, *, retry: bool) -> None:
        key = (config_key, int(current.revision))
        if key not in self._failed:
            log.error("%s: cannot play current model %s (revision %d): %s; %s", config_key,
                      current.model_id, current.revision, why,
                      f"retrying in {self._retry_s:g} s" if retry else
                      "the previous model plays on until another one is promoted")
        self._failed[key] = (why, self._clock() + self._retry_s if retry else None)


# ---- publishing -----------------------------------------------------------------------

@dataclass
class FinishedGame:
    """A game off the pool, with what its GameCompleted needs beside the game itself."""

    game: SelfPlayGame
    config_key: str
    seat_model_ids: tuple[str, ...]
    seconds: float
    simulations: int


def take_sequence(session: Session, replica_id: str, count: int) -> int:
    """Reserve ``count`` game numbers of ``replica_id`` in ``session``'s transaction; returns
    the first (the row is locked until the transaction ends)."""
    row = session.get(GameSequence, replica_id, with_for_update=True)
    if row is None:
        row = GameSequence(replica_id=replica_id, next_sequence=0)
        session.add(row)
    first = int(row.next_sequence)
    row.next_sequence = first + count
    return first


def game_completed(finished: FinishedGame) -> GameCompleted:
    """The GameCompleted of a numbered game (``finished.game.game_id`` already set)."""
    game = finished.game
    record = encode_game(game, finished.seat_model_ids)
    duration = Duration()
    duration.FromNanoseconds(int(finished.seconds * 1e9))
    outcome = (ranking_to_values(game.ranking) + 1.0) / 2.0  # 1 first, 0 last, ties share
    return GameCompleted(
        game_id=game.game_id, config_key=finished.config_key,
        seat_model_ids=finished.seat_model_ids, record=record.data,
        record_encoding=record.encoding, num_moves=len(game.moves),
        outcome=[] if game.truncated else [float(v) for v in outcome],
        ranking=list(game.ranking), simulations_per_move=finished.simulations,
        duration=duration, terminal=not game.truncated)


def publish_games(session: Session, replica_id: str, games: Sequence[FinishedGame], *,
                  max_message_bytes: int) -> tuple[list[Output], list[FinishedGame]]:
    """Number ``games`` and make their events, in ``session``'s transaction.

    Args:
        session: the transaction the outputs are enqueued in (with the sequence update).
        replica_id: this replica's id; game ids are ``<replica_id>-<10-digit number>``.
        games: finished games, in the order they finished.
        max_message_bytes: the broker's record limit; a larger game is dropped (logged)
            rather than blocking the outbox.

    Returns:
        The outputs, and the games that were too large to publish.
    """
    encoded: list[tuple[FinishedGame, GameCompleted]] = []
    dropped: list[FinishedGame] = []
    first = take_sequence(session, replica_id, len(games))
    for number, finished in enumerate(games, start=first):
        finished.game.game_id = f"{replica_id}-{number:010d}"
        payload = game_completed(finished)
        if payload.ByteSize() + ENVELOPE_MARGIN_BYTES > max_message_bytes:
            log.error("game %s (%s, %d moves) is %d bytes, over the broker's limit of %d: "
                      "not published", finished.game.game_id, finished.config_key,
                      len(finished.game.moves), payload.ByteSize(), max_message_bytes)
            dropped.append(finished)
            continue
        encoded.append((finished, payload))
    return [(GAME_COMPLETED, completed_event(payload)) for _, payload in encoded], dropped


def completed_event(payload: GameCompleted) -> Event[GameCompleted]:
    """The event of a game: its id is derived from the game id, so it is one per game."""
    return new_event(payload, config_key=payload.config_key, producer=SERVICE,
                     event_id=derive_event_id(payload.game_id, "game-completed"))

