"""The one shard path: a queue's pending games -> samples -> a shard in the store -> committed.

Self-play games and imported ones go through the same four steps:

1. :func:`take_window`: the queue's oldest pending games, in arrival order, until they hold
   ``max_samples`` samples (at least one game).
2. :meth:`Build.advance`: replay each game (:func:`records.training_game`) and encode its
   samples with the library (``game_samples``: the one encoder); a game that does not replay
   is set aside as rejected, with the reason. ``advance`` stops at a deadline, so a service
   can poll its consumer between games.
3. :func:`write_artifact`: the library's shard writer, then the content-addressed store.
   This happens *before* the commit: a kill after it leaves an orphan artifact (harmless,
   content-addressed), never a shard that is committed but missing.
4. :func:`commit`: in ONE transaction, the shard row, every game of the window marked with
   the shard's id (guarded: only games still pending, so a window another writer took in
   the meantime rolls back), the rejected games, the queue's totals and the ``ShardWritten``
   output for the outbox. So a game is in exactly one shard, ever.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ringrift.configs import GameConfig
from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.errors import PoisonMessage, RingriftError
from ringrift.events.envelope import Event, derive_event_id, new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef as ArtifactRefMessage
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.idempotency import forget_processed
from ringrift.events.outbox import Output
from ringrift.events.topics import SHARD_WRITTEN
from ringrift.selfplay.play import SelfPlayGame
from ringrift.selfplay.samples import game_samples, shard_metadata
from ringrift.storage.artifact_index import record_artifact
from ringrift.storage.artifacts import ArtifactRef, ArtifactStore
from ringrift.training.shards import Sample, write_shard
from services.exporter import records
from services.exporter.tables import GameStatus, Origin, QueueTotals, Shard, StoredGame, utc

log = logging.getLogger(__name__)
MAX_WINDOW_GAMES = 20_000
"""Most games one shard takes (a guard for queues of games without samples)."""
UNIFORM_MODEL_ID = "uniform"
"""The seat model id of the uniform evaluator (no trained model): left out of a shard's
source models, so the trainer sees an empty list for uniform play."""


class WindowTaken(RingriftError):
    """Some games of the window are no longer pending: another writer sharded them."""


@dataclass(frozen=True)
class QueueKey:
    config_key: str
    origin: str


@dataclass(frozen=True)
class WindowGame:
    """A pending game taken into a shard's window."""

    id: int
    game_id: str
    content_encoding: str
    content: bytes
    num_samples: int
    seat_model_ids: tuple[str, ...]
    produced_at: datetime
    event_id: str


def take_window(session: Session, key: QueueKey, max_samples: int) -> list[WindowGame]:
    """The queue's oldest pending games until they hold ``max_samples`` samples."""
    pending = session.execute(
        select(StoredGame.id, StoredGame.num_samples)
        .where(StoredGame.config_key == key.config_key, StoredGame.origin == key.origin,
               StoredGame.status == GameStatus.PENDING)
        .order_by(StoredGame.id).limit(MAX_WINDOW_GAMES)).all()
    chosen, samples = [], 0
    for row in pending:
        chosen.append(row.id)
        samples += row.num_samples
        if samples >= max_samples:
            break
    games: list[WindowGame] = []
    for start in range(0, len(chosen), 500):
        rows = session.execute(select(StoredGame).where(
            StoredGame.id.in_(chosen[start:start + 500])).order_by(StoredGame.id)).scalars()
        games.extend(WindowGame(
            row.id, row.game_id, row.content_encoding, row.content, row.num_samples,
            tuple(json.loads(row.seat_model_ids)), utc(row.produced_at), row.event_id)
            for row in rows)
    return games


@dataclass
class Build:
    """One shard in the making: its window, and the samples and rejections so far."""

    key: QueueKey
    trigger: str
    """``samples``, ``max_delay`` or ``import``."""
    games: list[WindowGame]
    encoder: Encoder = field(init=False)
    position: int = 0
    samples: list[Sample] = field(default_factory=list)
    sample_game_ids: list[str] = field(default_factory=list)
    model_ids: set[str] = field(default_factory=set)
    rejected: list[tuple[WindowGame, str]] = field(default_factory=list)
    replayed: dict[str, SelfPlayGame] = field(default_factory=dict)
    """Games replayed already (the import replays each record as it reads it), by id."""
    seconds: float = 0.0
    """Time spent replaying and encoding."""

    def __post_init__(self) -> None:
        self.encoder = Encoder.for_config(GameConfig.parse(self.key.config_key))

    @property
    def done(self) -> bool:
        return self.position >= len(self.games)

    def advance(self, deadline: float | None = None) -> int:
        """Replay and encode games until all are done or ``deadline`` (monotonic) passed
        (at least one game per call); returns how many were done."""
        count, started = 0, time.monotonic()
        while not self.done and (deadline is None or count == 0 or time.monotonic() < deadline):
            self._add(self.games[self.position])
            self.position += 1
            count += 1
        self.seconds += time.monotonic() - started
        return count

    def _add(self, game: WindowGame) -> None:
        try:
            played = self.replayed.pop(game.game_id, None) or records.training_game(
                game.game_id, game.content_encoding, game.content)
            samples = game_samples(played, self.encoder)
        except PoisonMessage as error:
            self.rejected.append((game, str(error)))
            return
        except Exception as error:  # a record that trips a bug: set aside, never crash
            log.exception("game %s could not be turned into samples", game.game_id)
            self.rejected.append((game, f"{type(error).__name__}: {error}"))
            return
        if samples:
            self.samples.extend(samples)
            self.sample_game_ids.append(game.game_id)
            self.model_ids.update(m for m in game.seat_model_ids
                                  if m and m != UNIFORM_MODEL_ID)


def write_artifact(build: Build, store: ArtifactStore) -> ArtifactRef | None:
    """Write the build's samples as a shard into the store (None: there are none)."""
    if not build.samples:
        return None
    metadata = shard_metadata(build.encoder, sorted(build.model_ids), build.sample_game_ids)
    with tempfile.TemporaryDirectory(prefix="ringrift-shard-") as scratch:
        path = Path(scratch) / "shard.npz"
        write_shard(path, build.samples, metadata)
        return store.put_file(path)


@dataclass(frozen=True)
class Committed:
    """What a committed build produced."""

    shard_id: str | None
    """None when the window gave no samples (no shard written)."""
    outputs: list[Output]
    newest_produced_at: datetime


def commit(session: Session, build: Build, ref: ArtifactRef | None, *,
           consumer_group: str = "") -> Committed:
    """Record the build in ``session``'s transaction (see the module docstring).

    Args:
        session: the transaction; the caller commits it (with the outputs in its outbox).
        build: a finished build.
        ref: its artifact (None: no samples).
        consumer_group: the group whose processed ids of rejected self-play games are
            dropped, so a replay of their dead letters is handled again.

    Raises:
        WindowTaken: another writer sharded some of these games meanwhile (roll back).
    """
    key, games = build.key, build.games
    rejected = {game.id: reason for game, reason in build.rejected}
    kept = [game.id for game in games if game.id not in rejected]
    sequence = _count_sharded(session, key, len(games), 1 if ref else 0)
    shard_id = None if ref is None else \
        f"{key.config_key}-{key.origin}-{sequence:09d}-{ref.sha256[:12]}"
    status = GameStatus.SHARDED if ref else GameStatus.NO_SAMPLES
    _mark(session, kept, status=status, shard_id=shard_id)
    for game_id, reason in rejected.items():
        _mark(session, [game_id], status=GameStatus.REJECTED, reason=reason[:8000])
    if consumer_group and key.origin == Origin.SELFPLAY:
        forget_processed(session, consumer_group,
                         [game.event_id for game, _ in build.rejected if game.event_id])
    newest = max(game.produced_at for game in games)
    if ref is None or shard_id is None:
        return Committed(None, [], newest)
    event = _shard_written(build, ref, shard_id, sequence, len(kept))
    session.add(Shard(
        shard_id=shard_id, config_key=key.config_key, origin=key.origin, uri=ref.uri,
        sha256=ref.sha256, size_bytes=ref.size, num_samples=len(build.samples),
        num_games=len(kept), encoder_version=ENCODER_VERSION,
        source_model_ids=json.dumps(sorted(build.model_ids)),
        first_game_id=games[0].game_id, last_game_id=games[-1].game_id,
        window_end_sequence=sequence, trigger=build.trigger,
        oldest_produced_at=min(game.produced_at for game in games),
        newest_produced_at=newest, created_at=datetime.now(UTC)))
    record_artifact(session, ref, "shard")
    return Committed(shard_id, [(SHARD_WRITTEN, event)], newest)


def _count_sharded(session: Session, key: QueueKey, games: int, shards: int) -> int:
    """Add to the queue's totals; returns its games sharded so far (the window sequence).
    On PostgreSQL the row stays locked to the end of the transaction: one writer a queue."""
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    totals = QueueTotals.__table__
    statement = insert(totals).values(config_key=key.config_key, origin=key.origin,
                                      games_sharded=games, shards_written=shards)
    statement = statement.on_conflict_do_update(
        index_elements=["config_key", "origin"],
        set_={"games_sharded": totals.c.games_sharded + statement.excluded.games_sharded,
              "shards_written": totals.c.shards_written + statement.excluded.shards_written},
    ).returning(totals.c.games_sharded)
    return int(session.execute(statement).scalar_one())


def _mark(session: Session, ids: list[int], *, status: str, shard_id: str | None = None,
          reason: str | None = None) -> None:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        count = session.execute(update(StoredGame).where(
            StoredGame.id.in_(chunk), StoredGame.status == GameStatus.PENDING).values(
            status=status, shard_id=shard_id, reason=reason)).rowcount
        if count != len(chunk):
            raise WindowTaken(f"{len(chunk) - count} game(s) of the window were sharded by "
                              "another writer meanwhile; the window is taken again")


def _shard_written(build: Build, ref: ArtifactRef, shard_id: str, sequence: int,
                   games: int) -> Event[ShardWritten]:
    payload = ShardWritten(
        shard_id=shard_id, config_key=build.key.config_key,
        shard=ArtifactRefMessage(uri=ref.uri, sha256=ref.sha256, size_bytes=ref.size),
        num_samples=len(build.samples), num_games=games, encoder_version=ENCODER_VERSION,
        source_model_ids=sorted(build.model_ids), first_game_id=build.games[0].game_id,
        last_game_id=build.games[-1].game_id, window_end_sequence=sequence)
    return new_event(payload, config_key=build.key.config_key, producer="exporter",
                     event_id=derive_event_id(f"exporter/shard/{shard_id}"))
