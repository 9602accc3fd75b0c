"""Wiring of the exporter: settings -> runtime -> handlers (``ringrift service run exporter``)."""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence

from ringrift.events.topics import GAME_COMPLETED
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.exporter.handlers import GameStore
from services.exporter.letters import LateDeadLetters
from services.exporter.settings import ExporterSettings
from services.exporter.writer import ShardWriter, owned_configs


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(ExporterSettings, argv)
    runtime = ServiceRuntime(settings)
    games = runtime.topic(GAME_COMPLETED)

    def owned() -> Collection[str]:
        consumer = runtime.consumer
        return owned_configs(consumer.status().assigned if consumer else (), games)

    writer = ShardWriter(runtime.engine, runtime.artifacts, settings, owned=owned,
                         dead_letters=LateDeadLetters(settings.kafka, service="exporter",
                                                      group=settings.consumer_group,
                                                      topic=games))
    runtime.consume([GAME_COMPLETED], GameStore(writer.add))
    runtime.every(settings.check_period_s(), writer.check, name="shards-due")
    runtime.source(writer.step)
    runtime.ready_when("shards", writer.problem)
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "exporter", *sys.argv[1:]]))
