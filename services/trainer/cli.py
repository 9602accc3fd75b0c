"""``ringrift trainer``: the trainer's tools beside the service.

    ringrift trainer status [--database-url URL]

``status`` prints, per config, the shards and samples the trainer holds, the samples since
its latest run, its runs and candidates (published, rejected, the training seconds that went
into rejected ones) and the latest run with its job's progress or failure. The database is
the trainer's (``RINGRIFT_TRAINER_DATABASE_URL``) unless given.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "trainer", help="the trainer's tools: where each config's training stands",
        description="Tools of the trainer service (start the service itself with "
        "`ringrift service run trainer`).")
    commands = parser.add_subparsers(dest="trainer_command", metavar="ACTION", required=True)
    status = commands.add_parser(
        "status", help="shards, runs and candidates per config, and the latest run's progress",
        description="Print, per config: shards and samples recorded, samples since the latest "
        "run, unusable and spent shards, runs, candidates published and rejected, training "
        "seconds on rejected candidates, and the latest run (window, parent, the steps it "
        "started from, its job's progress or failure, its candidate and verdict).")
    status.add_argument("--database-url", help="the trainer's database (default: env "
                        "RINGRIFT_TRAINER_DATABASE_URL, else sqlite:///var/db/trainer.db)")
    status.set_defaults(func=_status)


def _status(args: argparse.Namespace) -> int:
    from ringrift.service.flags import load_settings
    from ringrift.storage.database import make_engine, session_scope
    from ringrift.storage.migrations import check_at_head
    from services.trainer.report import status_lines
    from services.trainer.settings import TrainerSettings

    argv = ["--database-url", args.database_url] if args.database_url else []
    settings = load_settings(TrainerSettings, argv, prog="ringrift trainer status")
    check_at_head(settings.database_url, "trainer")
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            for line in status_lines(session):
                print(line)
    finally:
        engine.dispose()
    return 0
