"""The knobs of the single-machine training loop, in one frozen dataclass.

Defaults are sized so that ``make run`` (square8, 2 players, 2 CPU cores) prints its first table
row within minutes; a GPU run raises ``games_per_generation``, ``simulations`` and the preset.
The settings are stored in the loop's state file, and a resumed run refuses different
settings that would change what a generation means (see :mod:`ringrift.loop.state`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ringrift.configs import GameConfig


@dataclass(frozen=True)
class LoopSettings:
    """Everything a loop run needs; ``out`` holds its state and artifacts."""

    board: str = "square8"
    players: int = 2
    generations: int = 10
    """Generations to complete in total (a resumed run continues up to this number)."""
    games_per_generation: int = 64
    """Self-play games per generation. With ``train_steps`` and ``window`` this sets how often
    the trainer revisits a sample: 64 games (~3,800 samples) a generation over a window of 6
    generations gives each sample ~13 visits in its life; 32 games over 4 gave ~27, and a value
    head fitted to the outcomes of only ~130 games."""
    simulations: int = 16
    """Gumbel search simulations per self-play move."""
    eval_simulations: int = 16
    """Simulations per move of the search players in evaluation matches."""
    eval_games: int = 20
    """Games per evaluation match (candidate vs previous, vs random, vs heuristic), rounded up
    to whole rounds (the candidate in every seat equally often; pairs for 2 players)."""
    baseline_every: int = 4
    """Play the baseline matches (random, heuristic, policy-only) every this many generations
    and at the last one; the gate match against the current self-play model is played every
    generation. Baselines measure, they decide nothing, and every generation of them cost as
    much CPU time as the self-play on two cores."""
    preset: str = "tiny"
    """Model size preset (``ringrift.models.PRESETS``)."""
    train_steps: int = 400
    """Optimizer steps per generation."""
    batch_size: int = 128
    learning_rate: float = 2e-3
    window: int = 6
    """Train on the shards of the last ``window`` generations."""
    gate_min_score: float = 0.5
    """Promote a candidate when its score by rank (a draw counts half;
    :mod:`ringrift.evaluation.scores`) against the current self-play model is at least this;
    otherwise self-play keeps the current model. See :mod:`ringrift.loop.generation` for why
    this is a point estimate."""
    concurrency: int = 64
    """Games advanced in lockstep; their leaf positions share one network call."""
    max_moves: int = 600
    """Safety cap per game; capped games are reported and give no training samples."""
    seed: int = 0
    device: str | None = None
    """``cpu`` or ``cuda``; None picks CUDA when available."""
    threads: int = 2
    """Torch CPU threads (the machine is shared: keep it small)."""
    heuristic_eval: bool = True
    """Play the heuristic baseline each generation (costs a one-ply look-ahead per move)."""
    out: str = "var/loop/square8_2p"

    @property
    def config(self) -> GameConfig:
        return GameConfig(self.board, self.players)

    @property
    def out_dir(self) -> Path:
        return Path(self.out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> dict[str, Any]:
        """The settings that must not change when a run resumes."""
        return {"board": self.board, "players": self.players, "preset": self.preset}
