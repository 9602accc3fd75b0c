"""Backfill from files: GameRecords (JSON or JSONL, as RingRift's engines write them) into
the game store and through the one shard path (``ringrift exporter import FILE...``).

Each record is read and replayed with the rules library's tolerant reader
(:func:`ringrift.selfplay.imported.replay_for_training`: placeholder fields, PY's mid-turn
endings by the after-move check). A completed game is stored as ``import:<record id>``
(``import:sha256:<digest>`` when the record has no id), so importing a file twice changes
nothing and an imported id never meets a self-play one; incomplete, illegal and unreadable
records are reported and left out. Imported games queue apart from self-play games (a shard
holds one origin): each time a config's queue holds ``--shard-samples`` samples a shard is
built, and at the end of the run whatever is left goes into a last, smaller shard, so an
import ends with all its games in shards. The games replayed while reading are kept until
their shard is built, so a record is replayed once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from ringrift.events.outbox import enqueue_many
from ringrift.events.topics import TopicSpec
from ringrift.game.errors import WireFormatError
from ringrift.game.record import GameRecord, dumps_record, loads_record
from ringrift.game.replay import UNREADABLE, read_jsonl
from ringrift.selfplay.imported import replay_for_training
from ringrift.selfplay.play import SelfPlayGame
from ringrift.storage.artifacts import ArtifactStore
from ringrift.storage.database import session_scope
from services.exporter import records, shards
from services.exporter.games import NewGame, Stored, pending, store_game
from services.exporter.tables import Origin

Report = Callable[[dict[str, object]], None]
"""Called with a summary line for each record that was not imported."""


@dataclass
class ImportTotals:
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Records left out, by replay result (incomplete, illegal, unreadable)."""
    shards: list[str] = field(default_factory=list)
    samples: int = 0
    rejected: int = 0

    def summary(self) -> dict[str, object]:
        return {"totals": True, "records": self.records, "stored": self.stored,
                "duplicates": self.duplicates, **self.skipped, "rejected": self.rejected,
                "shards": len(self.shards), "samples": self.samples}


def import_id(record: GameRecord) -> str:
    """The game id of an imported record (see the module docstring)."""
    if record.id:
        return f"import:{record.id}"
    return "import:sha256:" + hashlib.sha256(dumps_record(record).encode()).hexdigest()[:32]


class Importer:
    """Imports files into the exporter's database and artifact store.

    Args:
        engine: the exporter's database.
        store: the artifact store shards go to.
        shard_samples: build a shard once a config's import queue holds this many samples.
        shard_topic: the ``ShardWritten`` topic (with the topic namespace, if any).
        report: called with a summary line for each record not imported, or rejected.
        chunk: records stored per transaction.
    """

    def __init__(self, engine: Engine, store: ArtifactStore, *, shard_samples: int,
                 shard_topic: TopicSpec, report: Report, chunk: int = 100) -> None:
        self.engine, self.store = engine, store
        self.shard_samples, self.shard_topic, self.chunk = shard_samples, shard_topic, chunk
        self._report = report
        self.totals = ImportTotals()
        self._replayed: dict[str, SelfPlayGame] = {}

    def import_file(self, path: str | Path, progress: Callable[[], None] = lambda: None
                    ) -> None:
        """Read, replay and store every record of ``path``, building shards as queues fill.

        Raises:
            OSError: the file cannot be read.
        """
        batch: list[NewGame] = []
        for source, record in _records(Path(path)):
            self.totals.records += 1
            progress()
            if isinstance(record, WireFormatError):
                self._skip({"source": source, "result": UNREADABLE, "error": str(record)})
                continue
            result, game = replay_for_training(record, game_id=import_id(record), source=source)
            if game is None:
                self._skip(result.summary())
                continue
            self._replayed[game.game_id] = game
            batch.append(records.imported_game(result, game))
            if len(batch) >= self.chunk:
                self._store(batch)
                batch = []
        self._store(batch)

    def finish(self) -> None:
        """Shard what is left in the import queues (a last, smaller shard per config)."""
        self._build_shards(minimum=0)

    def _skip(self, line: dict[str, object]) -> None:
        result = str(line.get("result"))
        self.totals.skipped[result] = self.totals.skipped.get(result, 0) + 1
        self._report(line)

    def _store(self, batch: list[NewGame]) -> None:
        with session_scope(self.engine) as session:
            for game in batch:
                if store_game(session, game) is Stored.DUPLICATE:
                    self.totals.duplicates += 1
                    self._replayed.pop(game.game_id, None)
                else:
                    self.totals.stored += 1
        self._build_shards(minimum=self.shard_samples)

    def _build_shards(self, minimum: int) -> None:
        """Build shards of the import queues holding at least ``minimum`` samples."""
        while (key := self._queue_at(minimum)) is not None:
            with session_scope(self.engine, read_only=True) as session:
                window = shards.take_window(session, key, self.shard_samples)
            if not window:
                return
            build = shards.Build(key, "import", window, replayed=self._replayed)
            build.advance()
            ref = shards.write_artifact(build, self.store)
            try:
                with session_scope(self.engine) as session:
                    committed = shards.commit(session, build, ref)
                    enqueue_many(session, [(self.shard_topic, event)
                                           for _, event in committed.outputs])
            except shards.WindowTaken:
                continue  # the exporter service sharded them meanwhile: take the rest
            if committed.shard_id:
                self.totals.shards.append(committed.shard_id)
                self.totals.samples += len(build.samples)
            self.totals.rejected += len(build.rejected)
            for game, reason in build.rejected:
                self._report({"game": game.game_id, "result": "rejected", "error": reason})

    def _queue_at(self, minimum: int) -> shards.QueueKey | None:
        with session_scope(self.engine, read_only=True) as session:
            queues = pending(session, origin=Origin.IMPORT)
        for (config_key, origin), queue in sorted(queues.items()):
            if queue.samples >= minimum:
                return shards.QueueKey(config_key, origin)
        return None


def _records(path: Path) -> Iterator[tuple[str, GameRecord | WireFormatError]]:
    """A JSONL file line by line; any other file as one JSON record."""
    if path.suffix == ".jsonl":
        yield from read_jsonl(path)
        return
    try:
        yield str(path), loads_record(path.read_bytes(), str(path))
    except WireFormatError as error:
        yield str(path), error
