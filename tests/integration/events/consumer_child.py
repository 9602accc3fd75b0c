"""A consumer process for the crash and shutdown tests: ``python -m tests.integration.events.consumer_child``.

Runs the real ConsumerLoop over a copy of the game-completed topic with the recording
handler, SIGTERM handled as a service's ``main.py`` does. The auto-commit interval is
an argument, so a test can make sure no background commit happens before it kills us.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ringrift.events.consumer import ConsumerLoop
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED
from ringrift.telemetry.logging import configure_logging
from tests.integration.events.support import make_store, recording_handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--auto-commit-interval-ms", type=int, default=1000)
    args = parser.parse_args()
    configure_logging("INFO")
    settings = KafkaSettings(bootstrap_servers=args.bootstrap_servers, session_timeout_ms=6000,
                             auto_commit_interval_ms=args.auto_commit_interval_ms)
    loop = ConsumerLoop(settings, service="exporter", group=args.group,
                        topics=[replace(GAME_COMPLETED, name=args.topic,
                                        partitions=args.partitions)],
                        handler=recording_handler("child"), engine=make_store(args.db))
    loop.install_signal_handlers()
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
