"""``ringrift exporter``: the exporter's tools beside the service.

    ringrift exporter import FILE... [--shard-samples N] [--database-url URL] [--artifact-dir D]
    ringrift exporter status [--rejected]

``import`` backfills GameRecord files (``.jsonl``: one record a line; other files: one
record) into the exporter's database and through its shard path (see
:mod:`services.exporter.importer`), then publishes the ``ShardWritten`` events it committed
(its own outbox relay; when a running exporter holds the database's relay lock, that one
publishes them). It prints one JSON line per record it left out and a totals line, and
exits 0 once every stored game is in a shard, 1 when a file could not be read. ``status``
prints the pending queues and shard counts per config and origin. Settings come from the
exporter's env (``RINGRIFT_EXPORTER_DATABASE_URL``, ``RINGRIFT_ARTIFACT_DIR``, ...) unless
given as flags.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

_SETTINGS_FLAGS = ("database_url", "artifact_dir", "shard_samples", "topic_namespace",
                   "kafka_bootstrap_servers")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "exporter", help="the exporter's tools: import GameRecord files, show its queues",
        description="Tools of the exporter service (start the service itself with "
        "`ringrift service run exporter`).")
    commands = parser.add_subparsers(dest="exporter_command", metavar="ACTION", required=True)
    imports = commands.add_parser(
        "import", help="backfill GameRecord files (JSON/JSONL) into training shards",
        description="Read GameRecords (.jsonl: one a line; any other file: one record) with "
        "the rules library's tolerant reader, store every completed game in the exporter's "
        "database (a game imported before is skipped) and write them into training shards "
        "through the exporter's shard path: a shard per --shard-samples samples, and a last "
        "smaller one per config at the end. Policy target of an imported position: the move "
        "played (one-hot); value targets: the replay's final ranking. Prints a JSON line per "
        "record left out (incomplete, illegal, unreadable) and a totals line; then publishes "
        "the ShardWritten events.")
    imports.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imports.add_argument("--no-publish", action="store_true",
                         help="leave the ShardWritten events in the outbox for the running "
                         "exporter's relay instead of publishing them before exiting")
    imports.add_argument("--publish-timeout-s", type=float, default=60.0,
                         help="how long to wait for the events to be published (default 60)")
    _settings_flags(imports)
    imports.set_defaults(func=_import)
    status = commands.add_parser("status", help="pending games and shards per config",
                                 description="Print the exporter's queues: pending games and "
                                 "samples, the oldest pending game, shards and games sharded.")
    status.add_argument("--rejected", action="store_true",
                        help="also list the games set aside because they did not replay")
    _settings_flags(status)
    status.set_defaults(func=_status)


def _settings_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (default: the exporter's env)")
    group.add_argument("--database-url", help="env RINGRIFT_EXPORTER_DATABASE_URL")
    group.add_argument("--artifact-dir", help="env RINGRIFT_ARTIFACT_DIR")
    group.add_argument("--shard-samples", help="env RINGRIFT_EXPORTER_SHARD_SAMPLES")
    group.add_argument("--topic-namespace", help="env RINGRIFT_TOPIC_NAMESPACE")
    group.add_argument("--kafka-bootstrap-servers", help="env KAFKA_BOOTSTRAP_SERVERS")


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ringrift.service.flags import load_settings
    from services.exporter.settings import ExporterSettings

    argv: list[str] = []
    for name in _SETTINGS_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return load_settings(ExporterSettings, argv, prog=f"ringrift exporter {args.exporter_command}")


def _import(args: argparse.Namespace) -> int:
    from ringrift.cli.progress import progress_bar
    from ringrift.events.topics import SHARD_WRITTEN
    from ringrift.service.hooks import Namespace
    from ringrift.storage.database import make_engine
    from ringrift.storage.migrations import check_at_head
    from services.exporter.importer import Importer
    from services.exporter.publish import publish_outbox

    settings = _settings(args)
    check_at_head(settings.database_url, "exporter")
    engine = make_engine(settings.database_url)
    shard_topic = Namespace(settings.topic_prefix()).topic(SHARD_WRITTEN)
    importer = Importer(engine, settings.artifacts.open(), shard_samples=settings.shard_samples,
                        shard_topic=shard_topic, report=lambda line: print(json.dumps(line)))
    failed = 0
    try:
        with progress_bar(description="import", unit="record") as bar:
            for path in args.files:
                try:
                    importer.import_file(path, lambda: bar.update(1))
                except OSError as error:
                    failed += 1
                    print(f"ringrift exporter import: cannot read {path}: {error}",
                          file=sys.stderr)
        importer.finish()
        print(json.dumps(importer.totals.summary()))
        if not args.no_publish:
            left = publish_outbox(engine, settings.kafka, timeout_s=args.publish_timeout_s)
            if left:
                print(f"ringrift exporter import: {left} event(s) are committed in the outbox "
                      "but not published yet; the exporter's relay publishes them when it runs",
                      file=sys.stderr)
    finally:
        engine.dispose()
    return 1 if failed else 0


def _status(args: argparse.Namespace) -> int:
    from ringrift.storage.database import make_engine, session_scope
    from ringrift.storage.migrations import check_at_head
    from services.exporter.status import rejected_games, status_lines

    settings = _settings(args)
    check_at_head(settings.database_url, "exporter")
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            for line in status_lines(session):
                print(line)
            if args.rejected:
                for game_id, config_key, reason in rejected_games(session):
                    print(f"rejected {game_id} ({config_key}): {reason}")
    finally:
        engine.dispose()
    return 0
