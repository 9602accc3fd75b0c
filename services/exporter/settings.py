"""Settings of the exporter (env ``RINGRIFT_EXPORTER_*``; ``--help`` lists them all)."""

from __future__ import annotations

from pydantic import Field

from ringrift.service.settings import ServiceSettings


class ExporterSettings(ServiceSettings):
    """The exporter: stores every finished game once and writes training shards per config."""

    service = "exporter"

    shard_samples: int = Field(default=8192, gt=0)
    """Write a config's shard as soon as this many samples are pending."""
    max_delay_s: float = Field(default=300.0, gt=0)
    """... or once its oldest pending game has waited this many seconds, whichever is first."""
    build_step_s: float = Field(default=0.5, gt=0)
    """Longest a shard build replays and encodes before the consumer is polled again."""

    def check_period_s(self) -> float:
        """How often the queues are checked for ``--max-delay`` (a tenth of it, 0.2-5 s)."""
        return min(5.0, max(0.2, self.max_delay_s / 10))
