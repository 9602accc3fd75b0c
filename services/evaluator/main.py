"""Wiring of the evaluator: settings -> runtime -> handlers (``ringrift service run evaluator``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ringrift.events.topics import CANDIDATE_READY, MODEL_CURRENT, MODEL_LIFECYCLE
from ringrift.service.cluster import EVALUATION
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.evaluator import handlers
from services.evaluator.evaluation import EvaluationJob
from services.evaluator.metrics import export_logged_ratings
from services.evaluator.settings import EvaluatorSettings


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(EvaluatorSettings, argv)
    settings.gate()  # a bad combination of gate settings stops the start, naming the field
    runtime = ServiceRuntime(settings)
    models = runtime.table(MODEL_CURRENT)
    cluster = runtime.cluster(route=True)  # a replica on a critical or lost node steps aside
    job = EvaluationJob(runtime.engine, settings, models.value,
                        lambda: cluster.deferral_reason(EVALUATION), runtime.enqueue)
    runtime.consume([CANDIDATE_READY, MODEL_LIFECYCLE], handlers.handle,
                    jobs={handlers.EVALUATE: job})
    export_logged_ratings(runtime.engine)
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "evaluator", *sys.argv[1:]]))
