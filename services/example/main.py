"""Wiring of the example service: settings -> runtime -> handlers (``ringrift service run example``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ringrift.events.topics import GAME_COMPLETED, MODEL_CURRENT
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.example import handlers
from services.example.settings import ExampleSettings


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(ExampleSettings, argv)
    runtime = ServiceRuntime(settings)
    models = runtime.table(MODEL_CURRENT)
    # Job routing: no new work while the cluster monitor reports this node critical or lost.
    runtime.cluster(route=True)
    runtime.consume([GAME_COMPLETED], handlers.GameCounter(models.value))
    runtime.every(settings.report_every_s, handlers.report, name="report")
    if settings.require_model:
        runtime.ready_when("model", handlers.model_known(models.value, settings.require_model))
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "example", *sys.argv[1:]]))
