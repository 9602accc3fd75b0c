"""Settings of the curriculum (env ``RINGRIFT_CURRICULUM_*``; ``--help`` lists them all)."""

from __future__ import annotations

from pydantic import Field, field_validator

from ringrift.configs import ALL_CONFIGS
from ringrift.service.settings import ServiceSettings
from services.curriculum.policy import PolicySettings

CONFIG_KEYS = tuple(config.key for config in ALL_CONFIGS)


class CurriculumSettings(ServiceSettings):
    """The curriculum: self-play weights per config from the evaluations' ratings (more games
    for configs whose rating rises fastest or whose model is oldest; none starves)."""

    service = "curriculum"

    configs: list[str] = Field(default_factory=lambda: ["square8_2p"])
    """The enabled configs, the ones that get weights (keep it the same as selfplay's
    --configs)."""
    floor_share: float = Field(default=0.25, gt=0, le=1)
    """Each enabled config gets at least this fraction of an equal share (1 = equal weights)."""
    velocity_weight: float = Field(default=1.0, ge=0)
    """Weight of the rating-velocity term (the fastest-rising config gets the whole term)."""
    age_weight: float = Field(default=1.0, ge=0)
    """Weight of the model-age term (the config promoted longest ago gets the whole term)."""
    velocity_window_h: float = Field(default=24.0, gt=0)
    """Hours of rating history the velocity is measured over."""
    min_change: float = Field(default=0.01, ge=0)
    """Publish new weights only when one moved by more than this (or a model changed)."""
    recompute_every_s: float = Field(default=10.0, gt=0)
    """How often the weights are recomputed without an event (model ages grow with time)."""

    @field_validator("configs")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [key for key in value if key not in CONFIG_KEYS]
        if unknown or not value:
            raise ValueError(f"unknown configs {unknown}; choose from {', '.join(CONFIG_KEYS)}"
                             if unknown else "enable at least one config")
        return list(dict.fromkeys(value))

    def policy(self) -> PolicySettings:
        return PolicySettings(self.floor_share, self.velocity_weight, self.age_weight)
