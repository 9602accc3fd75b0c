"""Operating characteristics of the gate: pass probability and games to a decision, by simulation.

Matches are simulated without networks. A game between the candidate and N - 1 copies of the
opponent ends in a Plackett-Luce ranking (first place drawn in proportion to the players'
strengths, then second among the rest, ...), with a first-mover advantage on seat 1, and with
probability ``tie_rate`` two neighbouring places tied (a draw, for 2 players). The candidate's
strength is solved for so that its expected score by rank, averaged over the seats, is exactly
``L(elo)``: "a candidate ``elo`` stronger" means the same thing here as in the gate's
hypotheses, for every player count. Games are independent in the simulation (the two games of
a real pair may be correlated; the pentanomial test does not assume either).

Every simulated match runs the gate's own code (:func:`ringrift.evaluation.sprt.log_likelihood_ratio`
and :func:`~ringrift.evaluation.sprt.verdicts` on the same schedule of batches), thousands at
once on stacked histograms, so what is measured is what decides.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ringrift.evaluation.gate import GateSettings
from ringrift.evaluation.schedule import games_per_unit
from ringrift.evaluation.scores import elo_to_score, units_per_game
from ringrift.evaluation.sprt import Verdict, log_likelihood_ratio, verdicts


@dataclass(frozen=True)
class OutcomeModel:
    """How simulated games end."""

    tie_rate: float = 0.05
    """Probability that two neighbouring places of a ranking are tied."""
    first_seat_advantage: float = 0.2
    """Log-strength bonus of seat 1 (0.2 is 35 Elo in a 2-player game)."""


@dataclass(frozen=True)
class OperatingPoint:
    """The gate's behaviour for one true Elo difference, over ``runs`` simulated matches."""

    elo: float
    runs: int
    pass_rate: float
    fail_rate: float
    inconclusive_rate: float
    mean_games: float


def seat_distributions(elo: float, num_players: int,
                       model: OutcomeModel = OutcomeModel()) -> np.ndarray:
    """The candidate's score distribution in each seat, shape ``(N, units + 1)`` (see scores)."""
    target = float(elo_to_score(elo))
    low, high = -30.0, 30.0
    for _ in range(100):
        middle = 0.5 * (low + high)
        tables = _seat_tables(middle, num_players, model)
        mean = float((tables @ np.arange(tables.shape[1])).mean()) / units_per_game(num_players)
        low, high = (middle, high) if mean < target else (low, middle)
    return _seat_tables(0.5 * (low + high), num_players, model)


def unit_distributions(elo: float, num_players: int,
                       model: OutcomeModel = OutcomeModel()) -> list[np.ndarray]:
    """Probabilities of the histogram's bins for each counted unit of a round: one pair (its
    two seats' results added) for 2 players, one game per seat for 3-4."""
    seats = seat_distributions(elo, num_players, model)
    size = games_per_unit(num_players)
    units = []
    for start in range(0, num_players, size):
        distribution = np.ones(1)
        for seat in seats[start:start + size]:
            distribution = np.convolve(distribution, seat)
        units.append(distribution)
    return units


def simulate_gate(settings: GateSettings, elo: float, num_players: int, *, runs: int = 2000,
                  seed: int = 0, model: OutcomeModel = OutcomeModel()) -> OperatingPoint:
    """Run ``runs`` simulated gate matches of a candidate ``elo`` stronger than its opponent."""
    units = unit_distributions(elo, num_players, model)
    rng = np.random.default_rng(seed)
    plan = settings.plan(num_players, 0)
    counts = np.zeros((runs, len(units[0])), dtype=np.int64)
    outcome = np.full(runs, Verdict.CONTINUE.value, dtype=object)
    games = np.zeros(runs)
    active = np.arange(runs)
    previous = 0
    for number in range(plan.batches):
        rounds = plan.rounds_after_batch(number)
        for probabilities in units:
            counts[active] += rng.multinomial(rounds - previous, probabilities,
                                              size=len(active))
        previous = rounds
        llr = log_likelihood_ratio(counts[active], settings.elo0, settings.elo1)
        verdict = verdicts(llr, rounds, plan.max_rounds, settings.alpha, settings.beta)
        done = verdict != Verdict.CONTINUE.value
        outcome[active[done]] = verdict[done]
        games[active[done]] = rounds * num_players
        active = active[~done]
        if not len(active):
            break
    passed = np.array([settings.passes(Verdict(value)) for value in outcome])
    return OperatingPoint(elo, runs, float(passed.mean()),
                          float(np.mean(outcome == Verdict.FAIL.value)),
                          float(np.mean(outcome == Verdict.INCONCLUSIVE.value)),
                          float(games.mean()))



def _seat_tables(log_strength: float, num_players: int, model: OutcomeModel) -> np.ndarray:
    """Per candidate seat, the distribution of its score units for one candidate strength."""
    units = units_per_game(num_players)
    tables = np.zeros((num_players, units + 1))
    neighbours = num_players - 1
    for seat in range(num_players):
        strength = np.ones(num_players)
        strength[0] *= math.exp(model.first_seat_advantage)
        strength[seat] *= math.exp(log_strength)
        for order in itertools.permutations(range(num_players)):
            probability = 1.0
            remaining = float(strength.sum())
            for player in order:
                probability *= strength[player] / remaining
                remaining -= strength[player]
            place = order.index(seat) + 1
            clean = 2 * (num_players - place)
            # A tie of places (k, k+1), each pair equally likely: the upper one loses one
            # unit, the lower one gains one; the candidate is in at most two such pairs.
            above = model.tie_rate / neighbours if place > 1 else 0.0
            below = model.tie_rate / neighbours if place < num_players else 0.0
            tables[seat, clean] += probability * (1.0 - above - below)
            if above:
                tables[seat, clean + 1] += probability * above
            if below:
                tables[seat, clean - 1] += probability * below
    return tables
