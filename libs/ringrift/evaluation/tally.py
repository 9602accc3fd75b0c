"""The candidate's results in one match: per game, per counted unit, and summed up.

The histogram of the candidate's results per unit (:mod:`ringrift.evaluation.schedule`) is
what the gate tests and what the score interval is measured on. For 2 players the unit is a
game pair and the histogram is fishtest's pentanomial count ``[LL, LD, DD+WL, WD, WW]`` (pair
totals 0, 1/2, 1, 3/2, 2); for N = 3-4 players the unit is a game and the bins are its score
by rank in steps of ``1 / (2 (N - 1))``: ``2 (N - 1) + 1`` of them (0, 1/4, ... 1 for 3
players; sixths for 4). Only complete rounds count, so every seat is played equally often: a
match resumed mid-round completes the round before it is counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ringrift.evaluation.estimates import ScoreEstimate, estimate_score
from ringrift.evaluation.games import GameResult
from ringrift.evaluation.schedule import games_per_unit
from ringrift.evaluation.scores import score_units, units_per_game

PENTANOMIAL_LABELS = ("LL", "LD", "DD+WL", "WD", "WW")
"""What the five bins of a 2-player round histogram mean (candidate's results in a pair)."""


def histogram_bins(num_players: int) -> int:
    """Number of bins of a unit histogram: 5 for pairs, ``2 (N - 1) + 1`` for 3-4 players."""
    return games_per_unit(num_players) * units_per_game(num_players) + 1


@dataclass(frozen=True)
class MatchSummary:
    """The candidate's record over the complete rounds of a match."""

    num_players: int
    rounds: int
    games: int
    wins: int
    """Games the candidate ranked first alone."""
    draws: int
    """Games the candidate shared first place."""
    losses: int
    histogram: tuple[int, ...]
    """Units (pairs, or 3-4 player games) by the candidate's result (see the module docstring)."""
    estimate: ScoreEstimate
    """Mean score by rank, with its interval and Elo."""

    @property
    def score(self) -> float:
        return self.estimate.score

    @property
    def interval(self) -> tuple[float, float]:
        return self.estimate.low, self.estimate.high

    @property
    def pentanomial(self) -> dict[str, int] | None:
        """For 2 players, the pair counts by label; None otherwise."""
        if self.num_players != 2:
            return None
        return dict(zip(PENTANOMIAL_LABELS, self.histogram, strict=True))

    def triple(self) -> list[float]:
        """[score, low, high], as the loop's table stores it."""
        return [self.score, self.estimate.low, self.estimate.high]

    def __str__(self) -> str:
        """The record, score and Elo with intervals, and the pentanomial counts for 2 players."""
        estimate = self.estimate
        line = (f"{self.wins}-{self.draws}-{self.losses} (W-D-L), "
                f"score {estimate.score:.3f} [{estimate.low:.3f}, {estimate.high:.3f}] over "
                f"{self.games} games, Elo {estimate.elo:+.0f} "
                f"[{estimate.elo_low:+.0f}, {estimate.elo_high:+.0f}]")
        if self.pentanomial is not None:
            counts = " ".join(f"{label} {count}" for label, count in self.pentanomial.items())
            line += f", pairs {counts}"
        return line


class MatchTally:
    """Accumulates the game results of one match (any order; a game index counts once)."""

    def __init__(self, num_players: int, results: Iterable[GameResult] = ()) -> None:
        self.num_players = num_players
        self._games: dict[int, GameResult] = {}
        self.add(results)

    def add(self, results: Iterable[GameResult]) -> None:
        """Count ``results``.

        Raises:
            ValueError: a result of another player count, or a game index already counted
                with a different result.
        """
        for result in results:
            if result.num_players != self.num_players:
                raise ValueError(f"a {result.num_players}-player result in a "
                                 f"{self.num_players}-player match")
            known = self._games.get(result.index)
            if known is not None and known != result:
                raise ValueError(f"game {result.index} is counted already with another result")
            self._games[result.index] = result

    @property
    def played(self) -> set[int]:
        """Indices of the games counted."""
        return set(self._games)

    def complete_rounds(self, limit: int | None = None) -> list[list[GameResult]]:
        """The rounds (below ``limit``, if given) whose N games are all counted, in order."""
        rounds: dict[int, list[GameResult]] = {}
        for result in self._games.values():
            if limit is None or result.round < limit:
                rounds.setdefault(result.round, []).append(result)
        return [sorted(games, key=lambda g: g.index) for _, games in sorted(rounds.items())
                if len(games) == self.num_players]

    def histogram(self, limit: int | None = None) -> np.ndarray:
        """Counts of the complete rounds' units by the candidate's result (in score units)."""
        counts = np.zeros(histogram_bins(self.num_players), dtype=np.int64)
        size = games_per_unit(self.num_players)
        for games in self.complete_rounds(limit):
            for start in range(0, len(games), size):
                counts[sum(_candidate_units(game) for game in games[start:start + size])] += 1
        return counts

    def summary(self, limit: int | None = None) -> MatchSummary:
        """The candidate's record over the complete rounds (below ``limit``, if given)."""
        rounds = self.complete_rounds(limit)
        games = [game for round_games in rounds for game in round_games]
        wins = draws = 0
        for game in games:
            rank = game.ranking[game.candidate_seat]
            if rank == 1:
                alone = sum(1 for other in game.ranking if other == 1) == 1
                wins += alone
                draws += not alone
        histogram = self.histogram(limit)
        return MatchSummary(self.num_players, len(rounds), len(games), wins, draws,
                            len(games) - wins - draws, tuple(int(c) for c in histogram),
                            estimate_score(histogram, games_per_unit(self.num_players)))


def _candidate_units(game: GameResult) -> int:
    return score_units(game.ranking)[game.candidate_seat]
