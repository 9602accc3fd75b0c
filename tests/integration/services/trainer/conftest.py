"""Running the trainer as users run it (``ringrift service run trainer``) on a tiny budget.

``Trainer`` wraps one test's service environment: the artifact store the service reads,
shards published into it, the service started with flags for tiny runs, and looks into the
trainer's database (runs, shards) and its ``/metrics``.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from ringrift.configs import GameConfig
from ringrift.events.topics import SHARD_WRITTEN
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from services.trainer.tables import Run, Shard
from tests.fixtures.services import ServiceEnv, ServiceProcess
from tests.utils.trainer_shards import StoredShard, stored_shard

SQUARE8 = GameConfig("square8", 2)
TINY_FLAGS = ("--samples-per-candidate", "100", "--window-min-rows", "100",
              "--train-samples", "64", "--batch-size", "16", "--checkpoint-every", "2",
              "--preset", "tiny", "--device", "cpu", "--torch-threads", "1",
              "--report-every-s", "1")


@dataclass
class Trainer:
    env: ServiceEnv
    store: DirectoryArtifactStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = DirectoryArtifactStore(self.env.directory / "artifacts")
        self.url = self.env.migrate("trainer")
        (self.env.directory / "scratch").mkdir(exist_ok=True)

    @property
    def work_dir(self) -> Path:
        return self.env.directory / "work"

    def start(self, *flags: str, **env: str) -> ServiceProcess:
        return self.env.start("trainer", *TINY_FLAGS, "--work-dir", str(self.work_dir), *flags,
                              env=self.env.env("trainer", **env))

    def shard(self, shard_id: str, samples: int) -> StoredShard:
        return stored_shard(self.store, self.env.directory / "scratch", SQUARE8, shard_id,
                            samples)

    def publish_shards(self, *shards: tuple[str, int]) -> list[StoredShard]:
        made = [self.shard(shard_id, samples) for shard_id, samples in shards]
        self.env.publish(SHARD_WRITTEN, [made_shard.event for made_shard in made])
        return made

    def runs(self) -> list[Run]:
        engine = make_engine(self.url)
        try:
            with session_scope(engine, read_only=True) as session:
                return list(session.scalars(select(Run).order_by(Run.number)))
        finally:
            engine.dispose()

    def status(self) -> str:
        """What ``ringrift trainer status`` prints for this trainer's database."""
        return subprocess.run(
            [sys.executable, "-m", "ringrift.cli.main", "trainer", "status", "--database-url",
             self.url], capture_output=True, text=True, timeout=300, check=True).stdout

    def shard_ids(self) -> list[str]:
        engine = make_engine(self.url)
        try:
            with session_scope(engine, read_only=True) as session:
                return list(session.scalars(select(Shard.shard_id).order_by(Shard.id)))
        finally:
            engine.dispose()


def scrape(service: ServiceProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as ``{(name, sorted labels): value}``."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(service.get("/metrics").text)
            for sample in family.samples}


@pytest.fixture
def trainer(service_env: ServiceEnv) -> Trainer:
    return Trainer(service_env)
