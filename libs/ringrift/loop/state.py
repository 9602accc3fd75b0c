"""The loop's durable state: which generations are complete and which model self-play uses.

One JSON file (``state.json`` under the run directory), rewritten atomically after every stage
of a generation (self-play, training, evaluation), so a loop killed at any point resumes at the
stage it was in: a written shard is not played again, a trained candidate is not retrained,
and a completed generation is never redone. The file also keeps every completed generation's
table row, so a resumed run reprints the history before continuing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ringrift.errors import ConfigurationError
from ringrift.storage.atomic import atomic_write

STATE_FILE = "state.json"


@dataclass
class GenerationRow:
    """What one generation did and measured; one row of the loop's table."""

    generation: int
    games: int = 0
    samples: int = 0
    truncated: int = 0
    selfplay_seconds: float = 0.0
    positions_per_second: float = 0.0
    policy_loss: float | None = None
    value_loss: float | None = None
    train_samples_per_second: float = 0.0
    candidate: str | None = None
    candidate_id: str | None = None
    vs_previous: list[float] | None = None
    """[score, low, high] of the candidate against the current self-play model."""
    vs_random: list[float] | None = None
    vs_heuristic: list[float] | None = None
    policy_vs_random: list[float] | None = None
    promoted: bool | None = None
    seconds: float = 0.0
    stage: str = "selfplay"
    """Next stage to run: selfplay, train, evaluate, done."""


@dataclass
class LoopState:
    """Progress of one run directory."""

    identity: dict[str, Any]
    best_model: str | None = None
    """Checkpoint self-play uses (None: search with a uniform evaluator)."""
    best_model_id: str | None = None
    latest_candidate: str | None = None
    """Checkpoint the next generation's training starts from."""
    rows: list[GenerationRow] = field(default_factory=list)

    @property
    def completed(self) -> list[GenerationRow]:
        return [row for row in self.rows if row.stage == "done"]

    def current(self, generation: int) -> GenerationRow:
        """The row of ``generation``, created if this generation has not started."""
        for row in self.rows:
            if row.generation == generation:
                return row
        row = GenerationRow(generation)
        self.rows.append(row)
        return row


def load_state(run_dir: Path, identity: dict[str, Any]) -> LoopState:
    """The state in ``run_dir``, or a fresh one.

    Raises:
        ConfigurationError: the directory holds a run of another board, player count or
            preset, or an unreadable state file.
    """
    path = run_dir / STATE_FILE
    if not path.exists():
        return LoopState(identity=identity)
    try:
        raw = json.loads(path.read_text())
        state = LoopState(identity=raw["identity"], best_model=raw.get("best_model"),
                          best_model_id=raw.get("best_model_id"),
                          latest_candidate=raw.get("latest_candidate"),
                          rows=[GenerationRow(**row) for row in raw.get("rows", [])])
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(f"{path} is not a loop state file ({error}); choose another "
                                 "--out or remove it") from None
    if state.identity != identity:
        raise ConfigurationError(
            f"{run_dir} holds a run with {state.identity}, not {identity}; use another --out")
    return state


def save_state(run_dir: Path, state: LoopState) -> None:
    """Write the state atomically (temporary file, then rename)."""
    with atomic_write(run_dir / STATE_FILE) as stream:
        stream.write(json.dumps(asdict(state), indent=1).encode())
