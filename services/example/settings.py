"""Settings of the example service (env ``RINGRIFT_EXAMPLE_*``; ``--help`` lists them all)."""

from __future__ import annotations

from pydantic import Field

from ringrift.service.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    """The example service: counts completed games per config, noting the current model."""

    service = "example"

    report_every_s: float = Field(default=60.0, gt=0)
    """How often the counts per config are logged and exported as metrics."""
    require_model: str = ""
    """Ready only once a current model is known for this config (e.g. square8_2p)."""
