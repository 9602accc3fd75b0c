"""``ringrift exporter import`` as users run it: a child process, the exporter's env, the
real broker and artifact store.

Checks: the command stores the completed records, writes their shards, publishes one
``ShardWritten`` per shard on the (namespaced) topic and prints a totals line; a file that
cannot be read exits 1 naming it while the others are imported; ``ringrift exporter
status`` shows the queue afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ringrift.events.topics import SHARD_WRITTEN
from ringrift.storage.artifacts import store_for_uri
from ringrift.training.shards import read_shard
from services.exporter.importer import import_id
from tests.fixtures.services import ServiceEnv
from tests.utils.exporter_games import records, write_jsonl

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def ringrift(env: ServiceEnv, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ringrift.cli.main", *argv],
                          env=env.env("exporter"), cwd=env.directory, capture_output=True,
                          text=True, timeout=600)


def test_import_publishes_a_shard_written_per_shard(service_env: ServiceEnv,
                                                     tmp_path: Path) -> None:
    service_env.migrate("exporter")
    games = list(records(4))
    first = write_jsonl(tmp_path / "a.jsonl", games[:2])
    second = write_jsonl(tmp_path / "b.jsonl", games[2:])
    done = ringrift(service_env, "exporter", "import", str(first), str(tmp_path / "missing.jsonl"),
                    str(second), "--shard-samples", "150")
    assert done.returncode == 1, done.stderr
    assert "cannot read" in done.stderr and "missing.jsonl" in done.stderr
    totals = json.loads(done.stdout.strip().splitlines()[-1])
    assert (totals["records"], totals["stored"]) == (4, 4)

    events = service_env.read(SHARD_WRITTEN, totals["shards"])
    assert len(events) == totals["shards"] >= 2
    seen: list[str] = []
    for event in events:
        written = event.payload
        data = read_shard(store_for_uri(written.shard.uri).local_path(written.shard.uri,
                                                                      written.shard.sha256))
        assert len(data) == written.num_samples
        seen += list(data.metadata.game_ids)
    assert sorted(seen) == sorted(import_id(game) for game in games)
    assert sum(event.payload.num_samples for event in events) == totals["samples"]

    status = ringrift(service_env, "exporter", "status")
    assert status.returncode == 0, status.stderr
    assert "square8_2p/import" in status.stdout and "4 game(s) sharded" in status.stdout
