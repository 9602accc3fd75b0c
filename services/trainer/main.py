"""Wiring of the trainer: settings -> runtime -> handlers (``ringrift service run trainer``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ringrift.events.topics import EVALUATION_COMPLETED, MODEL_CURRENT, SHARD_WRITTEN
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.trainer import handlers, report
from services.trainer.job import TrainJob
from services.trainer.settings import TrainerSettings


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(TrainerSettings, argv)
    runtime = ServiceRuntime(settings)
    models = runtime.table(MODEL_CURRENT)
    cluster = runtime.cluster(route=True)
    job = TrainJob(runtime.engine, settings, runtime.artifacts, cluster)
    runtime.consume([SHARD_WRITTEN, EVALUATION_COMPLETED],
                    handlers.TrainerHandler(settings, models.value),
                    jobs={handlers.TRAIN_JOB: job})
    report.create_series(runtime.engine, settings)
    runtime.every(settings.report_every_s, report.refresh, name="report")
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "trainer", *sys.argv[1:]]))
