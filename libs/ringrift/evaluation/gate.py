"""The promotion gate: a sequential test on Elo with its settings, and the decision it gives.

The candidate plays the current model in batches of rounds (:mod:`ringrift.evaluation.schedule`);
after each batch :func:`decide` runs the GSPRT (:mod:`ringrift.evaluation.sprt`) on the
complete rounds, so a clearly better or worse candidate stops after a batch or two and a
close one plays on up to ``max_games``, where the result is inconclusive (rejected unless
``promote_inconclusive``). A :class:`GateDecision` carries everything the evaluator's events
need: the verdict, the LLR and its bounds, the hypotheses and error rates, the counts
(pentanomial for 2 players) and the Elo estimate with its interval.

Defaults (elo0 = 0, elo1 = 50, alpha = 0.05, beta = 0.10, batches of 32 games, at most 400),
measured by ``make bench-gate`` on simulated 2-player pairs (3-4 players need fewer games):

- elo0 = 0 and alpha = 0.05: H0 is "no better than the current model", so an equal candidate
  is promoted at most 5% of the time (measured 2.5-3.4%), one 50 Elo weaker practically never.
- elo1 = 50: the games a GSPRT needs grow as 1 / (elo1 - elo0)^2, and every evaluation game
  is CPU taken from self-play on two cores (about 0.5 s of CPU per square8 game at 16
  simulations). With elo1 = 30 an equal candidate costs 340-370 games and more than half end
  inconclusive at the cap; with 50 it is rejected after about 210. A candidate only 30 Elo
  better passes a third of the time, which costs little: training continues the candidate
  line either way, and the next candidate meets the same current model with a larger gap.
- beta = 0.10: rejects equal and weaker candidates sooner (210 games rather than 260) while
  the power near elo1 is set by the cap anyway (76% at +50); a 100 Elo stronger candidate
  passes 99.8% of the time after about 120 games.
- batches of 32 games: one lockstep batch (one network call per move for all 32 games), and
  fine enough that a dominant candidate stops after 64-70 games. No test can stop much
  sooner: a pair gives at most ``log(s1 / s0)`` = 0.13 of evidence, 22 pairs to the bound.
- at most 400 games: bounds an evaluation to a few minutes; a candidate still undecided there
  is within about 35 Elo of the current model (the 95% interval of 400 games), and is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ringrift.errors import ConfigurationError
from ringrift.evaluation.schedule import MatchPlan
from ringrift.evaluation.sprt import Verdict, log_likelihood_ratio, verdicts, wald_bounds
from ringrift.evaluation.tally import MatchSummary, MatchTally

SPRT_METHOD = "sprt"


@dataclass(frozen=True)
class GateSettings:
    """The hypotheses, error rates and match sizes of the gate."""

    elo0: float = 0.0
    """H0: the candidate is this much stronger than the current model (or less)."""
    elo1: float = 50.0
    """H1: the candidate is this much stronger (or more)."""
    alpha: float = 0.05
    """Probability of promoting a candidate at ``elo0``."""
    beta: float = 0.10
    """Probability of rejecting a candidate at ``elo1``."""
    batch_games: int = 32
    """Games between two looks at the test (rounded up to whole rounds)."""
    max_games: int = 400
    """Games after which an undecided test is inconclusive (rounded up to whole rounds)."""
    promote_inconclusive: bool = False
    """Promote when the test is inconclusive (default: reject)."""

    def __post_init__(self) -> None:
        if not self.elo0 < self.elo1:
            raise ConfigurationError(f"gate elo0 ({self.elo0}) must be below elo1 ({self.elo1})")
        for name in ("alpha", "beta"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ConfigurationError(f"gate {name} must be in (0, 0.5), "
                                         f"not {getattr(self, name)}")
        if self.batch_games < 1 or self.max_games < self.batch_games:
            raise ConfigurationError("gate batch_games must be at least 1 and max_games at "
                                     f"least batch_games ({self.batch_games}, {self.max_games})")

    def plan(self, num_players: int, seed: int) -> MatchPlan:
        """The schedule of a gate match for ``num_players``."""
        return MatchPlan.from_games(num_players, seed, batch_games=self.batch_games,
                                    max_games=self.max_games)

    @property
    def bounds(self) -> tuple[float, float]:
        """(lower, upper) bounds of the LLR."""
        return wald_bounds(self.alpha, self.beta)

    def passes(self, verdict: Verdict) -> bool:
        """Whether ``verdict`` promotes: a pass, or inconclusive when so configured."""
        return verdict is Verdict.PASS or (verdict is Verdict.INCONCLUSIVE
                                           and self.promote_inconclusive)


@dataclass(frozen=True)
class GateDecision:
    """Where the gate stands after some rounds, and the statistics it rests on."""

    method: str
    verdict: Verdict
    passed: bool
    """Promote (a pass, or an inconclusive result when so configured)."""
    llr: float
    """The test statistic: the GSPRT log-likelihood ratio."""
    lower_bound: float
    upper_bound: float
    elo0: float
    elo1: float
    alpha: float
    beta: float
    max_games: int
    summary: MatchSummary
    """Counts, score with interval, Elo with interval."""

    @property
    def final(self) -> bool:
        """The match is over: no more games to play."""
        return self.verdict is not Verdict.CONTINUE

    @property
    def games(self) -> int:
        return self.summary.games

    def describe(self) -> str:
        """One line for logs and the event's ``summary`` field."""
        estimate = self.summary.estimate
        counts = "-".join(str(count) for count in self.summary.histogram)
        kind = "pentanomial" if self.summary.num_players == 2 else "rounds by score"
        elo = f"Elo {estimate.elo:+.0f} [{estimate.elo_low:+.0f}, {estimate.elo_high:+.0f}]"
        test = (f"LLR {self.llr:.2f} in [{self.lower_bound:.2f}, {self.upper_bound:.2f}] "
                f"for elo0 {self.elo0:g}, elo1 {self.elo1:g}")
        return (f"{self.method} {self.verdict.value}: {test} after {self.games} games, "
                f"{elo}, {kind} {counts}")


def decide(settings: GateSettings, tally: MatchTally, rounds: int) -> GateDecision:
    """The GSPRT decision on the first ``rounds`` rounds of a gate match.

    Args:
        settings: the gate's settings.
        tally: the match's results; its first ``rounds`` rounds must be complete.
        rounds: rounds played so far (the schedule's count after the last batch).

    Raises:
        ValueError: some of the first ``rounds`` rounds are incomplete.
    """
    summary = tally.summary(limit=rounds)
    if summary.rounds != rounds:
        raise ValueError(f"{rounds} rounds expected complete, {summary.rounds} are")
    max_rounds = settings.plan(tally.num_players, 0).max_rounds
    llr = float(log_likelihood_ratio(np.asarray(summary.histogram), settings.elo0,
                                     settings.elo1))
    verdict = Verdict(str(verdicts(np.asarray(llr), rounds, max_rounds, settings.alpha,
                                   settings.beta)))
    lower, upper = settings.bounds
    return GateDecision(SPRT_METHOD, verdict, settings.passes(verdict), llr, lower, upper, settings.elo0,
                        settings.elo1, settings.alpha, settings.beta,
                        max_rounds * tally.num_players, summary)

