"""Settings of the selfplay service (env ``RINGRIFT_SELFPLAY_*``; ``--help`` lists them all)."""

from __future__ import annotations

from pydantic import Field, field_validator

from ringrift.configs import ALL_CONFIGS
from ringrift.service.settings import ServiceSettings

CONFIG_KEYS = tuple(config.key for config in ALL_CONFIGS)


class SelfplaySettings(ServiceSettings):
    """The selfplay service: plays games with Gumbel search and publishes each finished one."""

    service = "selfplay"

    configs: list[str] = Field(default_factory=lambda: ["square8_2p"])
    """Configs to play, equally, until curriculum weights arrive (then the weights decide)."""
    concurrency: int = Field(default=64, ge=1)
    """Games in flight at once (the rolling lockstep pool); their leaves share network calls."""
    simulations: int = Field(default=16, ge=1)
    """Gumbel search simulations per searched move."""
    max_considered_actions: int = Field(default=16, ge=1)
    """Root moves Gumbel-top-k keeps for sequential halving."""
    max_moves: int = Field(default=600, ge=1)
    """Safety cap on moves per game; a capped game is published as not terminal (no samples)."""
    max_games: int | None = Field(default=None, ge=1)
    """Stop after publishing this many games (bounded runs); default: run forever."""
    device: str | None = None
    """Where networks run: cpu, cuda, cuda:1, ...; default CUDA when present, else CPU."""
    torch_threads: int = Field(default=0, ge=0)
    """CPU threads for the network (torch.set_num_threads); 0 keeps torch's default."""
    seed: int | None = None
    """Seed of the games' random generators (reproducible runs); default: fresh entropy."""
    model_retry_s: float = Field(default=30.0, gt=0)
    """Seconds before retrying a current model whose artifact could not be read (transient)."""

    @field_validator("configs")
    @classmethod
    def _known_configs(cls, value: list[str]) -> list[str]:
        unknown = [key for key in value if key not in CONFIG_KEYS]
        if unknown or not value:
            raise ValueError(f"unknown config(s) {', '.join(unknown) or '(none given)'}; "
                             f"choose from {', '.join(CONFIG_KEYS)}")
        return list(dict.fromkeys(value))
