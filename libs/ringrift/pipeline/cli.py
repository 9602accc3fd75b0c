"""``ringrift up``: the whole pipeline on this machine (what ``make run`` starts).

    ringrift up                                 # square8 2p, two-core budgets, live view
    ringrift up --plain                         # a line per event (also when piped)
    ringrift up --configs square8_2p,hex8_2p --device cuda
    ringrift up --set trainer.samples_per_candidate=8192 --duration 3000

Starts (or reuses) the local Kafka broker, provisions the topics, migrates every
service's database, starts every service as its own process under a supervisor
(restarts with backoff), and shows the live status view until Ctrl-C (or
``--duration``); then stops the services (SIGTERM, their grace period, SIGKILL), then the
broker if it started it. Data stays under ``var/``: the next run resumes from it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "up", help="run the whole pipeline on this machine (make run)",
        description=__doc__.split("\n\n", 2)[2].strip() if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="square8_2p",
                        help="configs to play and train, comma-separated (default: square8_2p)")
    parser.add_argument("--profile", default="default",
                        help="budgets: default (two CPU cores) or tiny (tests); see "
                        "ringrift/pipeline/profiles.py")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SERVICE.FIELD=VALUE",
                        help="one service setting on top of the profile, e.g. "
                        "trainer.samples_per_candidate=8192 (repeatable; `ringrift service run "
                        "SERVICE --help` lists the fields)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda, cuda:1 ... for selfplay, trainer and evaluator "
                        "(default: each picks CUDA when present)")
    parser.add_argument("--var-dir", default="var",
                        help="the run's state: broker data, databases, logs, artifacts "
                        "(default: var)")
    parser.add_argument("--kafka-bootstrap-servers",
                        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
                        help="use this broker (env KAFKA_BOOTSTRAP_SERVERS; default: the "
                        "local broker under VAR_DIR/kafka, started if needed)")
    parser.add_argument("--kafka-port", type=int, default=9092,
                        help="port of the local broker (default: 9092)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None,
                        help="a PostgreSQL server: one database per service on it (env "
                        "DATABASE_URL; default: SQLite files under VAR_DIR/db)")
    parser.add_argument("--topic-namespace", default=os.environ.get("RINGRIFT_TOPIC_NAMESPACE", ""),
                        help="prefix '<namespace>.' on every topic, to run two pipelines on one "
                        "broker (env RINGRIFT_TOPIC_NAMESPACE; default: none)")
    parser.add_argument("--plain", action="store_true",
                        help="a line per event instead of the live view (automatic when "
                        "stdout is not a terminal)")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                        help="stop by itself after this many seconds (e.g. 3000)")
    parser.add_argument("--grace-period-s", type=float, default=25.0,
                        help="seconds each service gets after SIGTERM (default: 25)")
    parser.add_argument("--free-ports", action="store_true",
                        help="serve each service's HTTP on a free port instead of its default "
                        "(8101-8108)")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from ringrift.pipeline.run import run_pipeline
    from ringrift.pipeline.settings import UpSettings

    settings = UpSettings(
        var_dir=args.var_dir, configs=tuple(key.strip() for key in args.configs.split(",")
                                            if key.strip()),
        profile=args.profile, overrides=tuple(args.overrides), device=args.device,
        bootstrap_servers=args.kafka_bootstrap_servers, kafka_port=args.kafka_port,
        database_url=args.database_url, namespace=args.topic_namespace,
        fixed_ports=not args.free_ports,
        grace_s=args.grace_period_s)
    plain = args.plain or not sys.stdout.isatty()
    # SIGTERM (a terminal closing, `kill`) stops as Ctrl-C does: services first, cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    return run_pipeline(settings, plain=plain, duration_s=args.duration)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
