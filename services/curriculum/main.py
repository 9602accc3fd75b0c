"""Wiring of the curriculum: settings -> runtime -> handlers (``ringrift service run curriculum``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ringrift.events.topics import EVALUATION_COMPLETED, MODEL_LIFECYCLE
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.curriculum import handlers
from services.curriculum.settings import CurriculumSettings


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(CurriculumSettings, argv)
    runtime = ServiceRuntime(settings)
    curriculum = handlers.Curriculum(handlers.CurriculumPolicy(
        settings.configs, settings.policy(), settings.velocity_window_h, settings.min_change))
    runtime.consume([EVALUATION_COMPLETED, MODEL_LIFECYCLE], curriculum.handle)
    runtime.every(settings.recompute_every_s, curriculum.recompute, name="recompute")
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "curriculum", *sys.argv[1:]]))
