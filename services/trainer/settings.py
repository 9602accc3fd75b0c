"""Settings of the trainer (env ``RINGRIFT_TRAINER_*``; ``--help`` lists them all)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ringrift.configs import ALL_CONFIGS
from ringrift.models.presets import PRESETS
from ringrift.service.settings import ServiceSettings
from ringrift.training.settings import TrainSettings
from ringrift.training.window_size import WindowRule

CONFIG_KEYS = tuple(config.key for config in ALL_CONFIGS)


class TrainerSettings(ServiceSettings):
    """The trainer: trains a candidate per config once enough new samples arrived, over a window of
recent shards that grows with the data, and publishes CandidateReady with its weights."""

    service = "trainer"

    configs: list[str] = Field(default_factory=list)
    """Configs to train (e.g. square8_2p,hex8_3p); empty: every config shards arrive for.
    Shards of other configs are still recorded, so enabling a config later loses nothing."""
    samples_per_candidate: int = Field(default=25_000, gt=0)
    """Train a new candidate once this many samples arrived since the last one was started."""
    max_unevaluated: int = Field(default=0, ge=0)
    """Start no run of a config while this many of its candidates await their evaluation
    (0: no limit); the run starts on the result that frees the slot, on all data until then."""
    start_from: Literal["latest", "promoted"] = "latest"
    """Parent of each candidate: 'latest' = the last candidate trained for the config (the
    promoted model before the first one), 'promoted' = the config's current model."""
    preset: str = ""
    """Size preset of a first network (no parent): tiny, small, medium or large; unset: the
    board's default."""

    window_min_rows: int = Field(default=25_000, gt=0)
    """Rows of the first window; no training before this many usable rows exist (KataGo's min-rows)."""
    window_max_rows: int = Field(default=2_000_000, gt=0)
    """The window never holds more rows than this."""
    window_expand_per_row: float = Field(default=0.4, ge=0)
    """Rows the window grows by per new row just past the minimum (KataGo's expand-window-per-row)."""
    window_taper_exponent: float = Field(default=0.65, gt=0, le=1)
    """The window grows as this power of the rows produced (KataGo's taper-window-exponent)."""

    train_samples: int = Field(default=100_000, gt=0)
    """Samples drawn per candidate; steps = ceil(train_samples / batch size), so a larger
    recommended batch takes fewer steps over the same amount of data."""
    batch_size: int = Field(default=128, gt=0)
    """Batch size when the cluster monitor recommends none for this node (no GPU, no status)."""
    min_batch_size: int = Field(default=16, gt=0)
    """Smallest batch the model is trained with (a recommendation below it is raised to it)."""
    max_batch_size: int = Field(default=512, gt=0)
    """Largest batch the model is trained with (a recommendation above it is capped)."""
    learning_rate: float = Field(default=2e-3, gt=0)
    """Peak learning rate of each run (linear warm-up, then cosine decay)."""
    warmup_steps: int = Field(default=20, ge=1)
    """Warm-up steps of each run (at most a tenth of its steps)."""
    checkpoint_every: int = Field(default=100, gt=0)
    """Steps between resumable checkpoints: a kill loses at most this many steps."""
    seed: int = 0
    """Base seed; each run's seed derives from it and the run's number (runs are reproducible)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where to train; auto: CUDA when available, else the CPU."""
    torch_threads: int = Field(default=0, ge=0)
    """CPU threads torch may use (0: torch's default)."""
    work_dir: str = "var/trainer"
    """Local directory for run checkpoints and the window's row-file cache (one per replica;
    never shared by two replicas). Keep it on a volume that survives a restart to resume there."""
    report_every_s: float = Field(default=10.0, gt=0)
    """How often the per-config gauges are refreshed from the database."""

    @field_validator("configs")
    @classmethod
    def _known_configs(cls, value: list[str]) -> list[str]:
        unknown = [key for key in value if key not in CONFIG_KEYS]
        if unknown:
            raise ValueError(f"unknown config(s) {', '.join(unknown)}; expected some of "
                             f"{', '.join(CONFIG_KEYS)}")
        return value

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value and value not in PRESETS:
            raise ValueError(f"unknown preset {value!r}; expected one of {', '.join(PRESETS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainerSettings:
        if not self.min_batch_size <= self.batch_size <= self.max_batch_size:
            raise ValueError(f"batch sizes must satisfy min ({self.min_batch_size}) <= default "
                             f"({self.batch_size}) <= max ({self.max_batch_size})")
        if self.window_max_rows < self.window_min_rows:
            raise ValueError("window_max_rows must be at least window_min_rows")
        return self

    def trains(self, config_key: str) -> bool:
        """Whether candidates are trained for ``config_key``."""
        return not self.configs or config_key in self.configs

    def batch_size_for(self, recommended: int) -> int:
        """A recommended batch size kept within ``[min_batch_size, max_batch_size]``."""
        return min(max(recommended, self.min_batch_size), self.max_batch_size)

    def window_rule(self) -> WindowRule:
        return WindowRule(min_rows=self.window_min_rows, max_rows=self.window_max_rows,
                          expand_window_per_row=self.window_expand_per_row,
                          taper_window_exponent=self.window_taper_exponent)

    def run_settings(self, batch_size: int, run_number: int) -> TrainSettings:
        """The settings of one run, fixed when it first starts (a resume must match them)."""
        steps = max(1, math.ceil(self.train_samples / batch_size))
        return TrainSettings(steps=steps, batch_size=batch_size,
                             learning_rate=self.learning_rate,
                             warmup_steps=max(1, min(self.warmup_steps, steps // 10)),
                             checkpoint_every=self.checkpoint_every,
                             seed=self.seed * 1_000_003 + run_number)
