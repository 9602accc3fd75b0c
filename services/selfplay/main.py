"""Wiring of the selfplay service: settings -> runtime -> the game loop
(``ringrift service run selfplay``)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

from ringrift.events.topics import CURRICULUM_WEIGHTS, MODEL_CURRENT
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.selfplay.games import GameLoop
from services.selfplay.handlers import ModelSlots, artifact_loader
from services.selfplay.settings import SelfplaySettings


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(SelfplaySettings, argv)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    runtime = ServiceRuntime(settings)
    models = runtime.table(MODEL_CURRENT)
    weights = runtime.table(CURRICULUM_WEIGHTS)
    # Routing: on a critical or lost node the runtime stops calling the game loop.
    cluster = runtime.cluster(route=True)
    slots = ModelSlots(models.get, artifact_loader(settings.device),
                       retry_s=settings.model_retry_s)
    runtime.source(GameLoop(settings, replica_id=settings.instance_id or socket.gethostname(),
                            slots=slots, curriculum=lambda: weights.value("all"),
                            cluster=cluster,
                            max_message_bytes=settings.kafka.max_message_bytes))
    runtime.ready_when("models", slots.problems)
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "selfplay", *sys.argv[1:]]))
