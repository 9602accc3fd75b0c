"""Wiring of the promoter: settings -> runtime -> handlers and REST API (``ringrift service run promoter``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ringrift.events.topics import (
    CANDIDATE_READY,
    EVALUATION_COMPLETED,
    EVALUATION_STARTED,
    SHARD_WRITTEN,
)
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from services.promoter import access, api, handlers, inputs, metrics
from services.promoter.settings import PromoterSettings


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(PromoterSettings, argv)
    runtime = ServiceRuntime(settings)
    check = inputs.verify_weights if settings.verify_weights else None
    token = settings.api_token
    access.at_start(runtime.engine, (settings.api_token_name, token.get_secret_value())
                    if token is not None else None)
    runtime.consume([CANDIDATE_READY, EVALUATION_STARTED, EVALUATION_COMPLETED, SHARD_WRITTEN],
                    handlers.Promoter(check))
    runtime.every(settings.refresh_every_s, metrics.refresh, name="refresh-metrics")
    api.install(runtime.app, runtime.engine, runtime.enqueue, open_reads=settings.open_reads,
                check_weights=check)
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "promoter", *sys.argv[1:]]))
