"""Ratings from a match log: a Bradley-Terry (Elo) maximum-likelihood fit over every game.

Each game gives pairwise comparisons: in a 2-player game the result (win 1, draw 1/2, loss
0); in a 3-4 player game every two seats held by *different* players are compared by their
ranks (ahead 1, tied 1/2, behind 0), which is the same reading of a ranking as the score by
rank (:mod:`ringrift.evaluation.scores`). The comparisons of one ranking are not independent:
a ranking of N equal players carries as much information about one player as ``3 (N - 1) /
(N + 1)`` independent games, not ``N - 1``, so each comparison is weighted ``3 / (N + 1)``
(1 for 2 players, 0.75 for 3, 0.6 for 4), which keeps the standard errors honest (checked by
simulation in the tests).

The fit maximises ``sum w (y log L(r_a - r_b) + (1 - y) log L(r_b - r_a))`` by Newton's method,
with the anchor (the random player) fixed at 0, and takes standard errors from the inverse of
the Hessian. A virtual draw between every two players that met (as BayesElo does) keeps a
player that only ever won finite; over hundreds of games its pull is a few Elo. Only players
connected to the anchor through games can be rated; the others are listed as unrated. The
ratings are a pure function of the log: refit from all games whenever it grows, never updated
by deltas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ringrift.evaluation.estimates import Z_95
from ringrift.evaluation.players import RANDOM_ID

_ELO_PER_NAT = 400.0 / math.log(10.0)


class RatedGame(Protocol):
    """What a rating needs of a game: who sat where and how they ranked."""

    @property
    def players(self) -> Sequence[str]: ...

    @property
    def ranking(self) -> Sequence[int]: ...


@dataclass(frozen=True)
class Rating:
    """One player's Elo, relative to the anchor, with its standard error and 95% interval."""

    player_id: str
    elo: float
    stderr: float
    games: int

    @property
    def interval(self) -> tuple[float, float]:
        return self.elo - Z_95 * self.stderr, self.elo + Z_95 * self.stderr


@dataclass(frozen=True)
class Ratings:
    """The fit of one config's match log."""

    anchor: str
    ratings: dict[str, Rating]
    unrated: tuple[str, ...]
    """Players not connected to the anchor through any game."""
    covariance: np.ndarray
    """Covariance of the rated players' Elo (order of ``ratings``; the anchor's row is 0)."""

    def __getitem__(self, player_id: str) -> Rating:
        return self.ratings[player_id]

    def difference(self, first: str, second: str) -> tuple[float, float]:
        """Elo of ``first`` minus ``second`` and the standard error of that difference."""
        order = list(self.ratings)
        i, j = order.index(first), order.index(second)
        c = self.covariance
        variance = max(0.0, float(c[i, i] + c[j, j] - 2 * c[i, j]))
        return self.ratings[first].elo - self.ratings[second].elo, math.sqrt(variance)


def fit_ratings(games: Iterable[RatedGame], *, anchor: str = RANDOM_ID,
                prior_draws: float = 1.0) -> Ratings:
    """Fit Elo ratings to ``games`` with ``anchor`` at 0.

    Args:
        games: the match log of one config (any order).
        anchor: the player fixed at 0 (the random player).
        prior_draws: virtual draws between every two players that met.

    Returns:
        The ratings of the players connected to ``anchor`` (just the anchor's if it never
        played), the others as unrated.
    """
    totals: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, int] = {}
    for game in games:
        players, ranking = list(game.players), list(game.ranking)
        weight = 3.0 / (len(players) + 1)
        for player in set(players):
            counts[player] = counts.get(player, 0) + 1
        for i in range(len(players)):
            for j in range(i + 1, len(players)):
                if players[i] == players[j]:
                    continue
                a, b = sorted((players[i], players[j]))
                ahead = 1.0 if ranking[i] < ranking[j] else 0.5 if ranking[i] == ranking[j] else 0.0
                score_a = ahead if a == players[i] else 1.0 - ahead
                pair = totals.setdefault((a, b), [0.0, 0.0])
                pair[0] += weight
                pair[1] += weight * score_a
    rated = _connected(anchor, totals)
    unrated = tuple(sorted(set(counts) - set(rated) - {anchor}))
    index = {player: k for k, player in enumerate(rated)}
    pairs = [(index[a], index[b], n + prior_draws, s + prior_draws / 2)
             for (a, b), (n, s) in totals.items() if a in index and b in index]
    elo, covariance = _newton(len(rated), pairs)
    ratings = {player: Rating(player, float(elo[k]), math.sqrt(max(0.0, covariance[k, k])),
                              counts.get(player, 0)) for player, k in index.items()}
    return Ratings(anchor, ratings, unrated, covariance)


def _connected(anchor: str, totals: dict[tuple[str, str], list[float]]) -> list[str]:
    """The anchor first, then every player reachable from it through comparisons, sorted."""
    neighbours: dict[str, set[str]] = {}
    for a, b in totals:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    seen, frontier = {anchor}, [anchor]
    while frontier:
        for other in neighbours.get(frontier.pop(), ()):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return [anchor] + sorted(seen - {anchor})


def _newton(size: int, pairs: list[tuple[int, int, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Elo and covariance (Elo^2) of players ``1..size-1`` with player 0 fixed at 0."""
    free = size - 1
    rating = np.zeros(size)
    covariance = np.zeros((size, size))
    if free == 0:
        return rating, covariance
    hessian = np.zeros((free, free))
    for _ in range(100):
        gradient = np.zeros(size)
        information = np.zeros((size, size))
        for a, b, n, s in pairs:
            p = 1.0 / (1.0 + math.exp(rating[b] - rating[a]))
            gradient[a] += s - n * p
            gradient[b] -= s - n * p
            w = n * p * (1.0 - p)
            information[a, a] += w
            information[b, b] += w
            information[a, b] -= w
            information[b, a] -= w
        hessian = information[1:, 1:]
        step = np.linalg.solve(hessian, gradient[1:])
        # The log-likelihood is concave; capping a step at 2 nats (350 Elo) keeps Newton from
        # overshooting where the curvature is small (a player far from the others).
        step *= min(1.0, 2.0 / max(float(np.max(np.abs(step))), 1e-300))
        rating[1:] += step
        if np.max(np.abs(step)) < 1e-10:
            break
    covariance[1:, 1:] = np.linalg.inv(hessian) * _ELO_PER_NAT**2
    return rating * _ELO_PER_NAT, covariance
