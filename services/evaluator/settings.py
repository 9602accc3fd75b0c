"""Settings of the evaluator (env ``RINGRIFT_EVALUATOR_*``; ``--help`` lists them all).

The gate's fields are :class:`ringrift.evaluation.GateSettings` with the same defaults (its
docstring says why: elo0 0, elo1 50, alpha 0.05, beta 0.10, batches of 32, at most 400).
An evaluation records the settings it started with, so a resumed match plays on under them
even if the service restarts with others.
"""

from __future__ import annotations

from pydantic import Field

from ringrift.evaluation import GateSettings
from ringrift.service.settings import ServiceSettings

_GATE = GateSettings()


class EvaluatorSettings(ServiceSettings):
    """The evaluator: plays each candidate against the current model under a sequential
    test (GSPRT on Elo), stores every game, rates every model from the whole match log."""

    service = "evaluator"

    gate_elo0: float = _GATE.elo0
    """H0 of the gate's test: the candidate is at most this many Elo above the current model."""
    gate_elo1: float = _GATE.elo1
    """H1 of the gate's test: the candidate is at least this many Elo above."""
    gate_alpha: float = Field(default=_GATE.alpha, gt=0, lt=0.5)
    """Probability of promoting a candidate at elo0 (false promotion)."""
    gate_beta: float = Field(default=_GATE.beta, gt=0, lt=0.5)
    """Probability of rejecting a candidate at elo1."""
    gate_batch_games: int = Field(default=_GATE.batch_games, ge=1)
    """Games between two looks at the test (rounded up to whole rounds)."""
    gate_max_games: int = Field(default=_GATE.max_games, ge=1)
    """Games after which an undecided test is inconclusive."""
    gate_promote_inconclusive: bool = _GATE.promote_inconclusive
    """Pass an inconclusive result (default: reject it)."""
    simulations: int = Field(default=16, ge=1)
    """Gumbel search simulations per move, for the candidate and every model opponent."""
    max_moves: int = Field(default=600, ge=1)
    """Safety cap on moves per game; a capped game is a tie of all seats."""
    concurrency: int = Field(default=32, ge=1)
    """Games in lockstep at once (their positions share one network call)."""
    device: str = ""
    """Torch device for the networks (cpu, cuda); empty picks CUDA when present."""
    threads: int = Field(default=1, ge=0)
    """Torch CPU threads (0: torch's default, one per core). One is fastest for the small
    batches of a match on a shared machine: more threads spin against each other."""
    baselines_every: int = Field(default=4, ge=1)
    """Play the baseline ladder (random, heuristic, the first promoted model) with the
    1st candidate of a config and then every this many."""
    baseline_games: int = Field(default=32, ge=1)
    """Games per baseline match (rounded up to whole rounds)."""
    decision_wait_s: float = Field(default=300.0, ge=0)
    """After a passed gate, the next evaluation of the config waits this long at most for
    the promoter's decision, so that it plays the model that is current after it."""

    def gate(self) -> GateSettings:
        """The gate's settings (raises ConfigurationError naming a bad combination)."""
        return GateSettings(self.gate_elo0, self.gate_elo1, self.gate_alpha, self.gate_beta,
                            self.gate_batch_games, self.gate_max_games,
                            self.gate_promote_inconclusive)
