"""Match scheduling: rounds of games with the candidate in every seat, deterministic by game index.

A match is the candidate against one opponent, which fills every other seat with copies of
itself. Games come in *rounds* of N games (N = the player count): game ``g`` belongs to round
``g // N`` and puts the candidate in seat ``g % N``, so within a round the candidate plays
every seat once and no seat's advantage favours either side; matches are played and judged in
whole rounds.

The *unit* the gate counts is what is independent: for 2 players a round, i.e. a game pair
with swapped seats, both games drawing their randomness from one seed ``(match seed, round)``
as fishtest plays both colours of one opening (pentanomial counts); for 3-4 players each game,
with its own seed ``(match seed, game)``. A shared seed would make 3-4 player games of one
round alike (the copies of the opponent that move first in two games of a round would draw the
same moves), so their results would be correlated, and the test counting them as independent
would be too confident; and the GSPRT gains at most ``log(s1 / s0)`` per unit, so bigger units
cost games when one side is far stronger.

Everything about game ``g`` (its round, seats and seed) is a function of ``g`` and the match
seed alone, so a match killed after some games resumes by playing exactly the indices that
are missing, in batches of whole rounds.

The baseline ladder (random, heuristic, the first promoted model) gives every config's rating
curve fixed anchors; :func:`baselines_due` says which candidates play it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ringrift.errors import ConfigurationError

CANDIDATE = 0
"""Index of the candidate among a match's two participants (the opponent is 1)."""
OPPONENT = 1


@dataclass(frozen=True)
class ScheduledGame:
    """One game of a match: where it sits in the schedule and who plays which seat."""

    index: int
    round: int
    num_players: int
    candidate_seat: int
    """0-based seat of the candidate; every other seat is the opponent."""
    seed: tuple[int, int]
    """Seed of the game's random generator: (match seed, unit) (see the module docstring)."""

    @property
    def seating(self) -> tuple[int, ...]:
        """Participant per seat: :data:`CANDIDATE` in its seat, :data:`OPPONENT` elsewhere."""
        return tuple(CANDIDATE if seat == self.candidate_seat else OPPONENT
                     for seat in range(self.num_players))


@dataclass(frozen=True)
class MatchPlan:
    """The schedule of one match: player count, seed, batch size and length, all in rounds.

    Args:
        num_players: seats per game (2-4).
        seed: the match seed (non-negative; e.g. a hash of the evaluation's id).
        rounds_per_batch: rounds played between two looks at the result.
        max_rounds: the match ends after this many rounds at the latest.
    """

    num_players: int
    seed: int
    rounds_per_batch: int
    max_rounds: int

    def __post_init__(self) -> None:
        if self.num_players not in (2, 3, 4):
            raise ConfigurationError(f"a match needs 2-4 players, not {self.num_players}")
        if self.seed < 0:
            raise ConfigurationError(f"a match seed must be non-negative, not {self.seed}")
        if self.rounds_per_batch < 1 or self.max_rounds < 1:
            raise ConfigurationError("a match needs at least one round per batch and in all")

    @classmethod
    def from_games(cls, num_players: int, seed: int, *, batch_games: int,
                   max_games: int) -> MatchPlan:
        """A plan from sizes in games, each rounded up to whole rounds.

        Raises:
            ConfigurationError: a size below one game.
        """
        if batch_games < 1 or max_games < 1:
            raise ConfigurationError("batch and match sizes must be at least one game")
        return cls(num_players, seed, rounds_for(batch_games, num_players),
                   rounds_for(max_games, num_players))

    @property
    def max_games(self) -> int:
        return self.max_rounds * self.num_players

    def game(self, index: int) -> ScheduledGame:
        """Game ``index`` of the match (0-based)."""
        if not 0 <= index < self.max_games:
            raise ValueError(f"game {index} outside this match's {self.max_games} games")
        unit = index // games_per_unit(self.num_players)
        return ScheduledGame(index, index // self.num_players, self.num_players,
                             index % self.num_players, (self.seed, unit))

    def batch(self, number: int) -> range:
        """Game indices of batch ``number`` (0-based); the last batch may be shorter."""
        first = number * self.rounds_per_batch
        last = min(first + self.rounds_per_batch, self.max_rounds)
        return range(first * self.num_players, max(first, last) * self.num_players)

    def rounds_after_batch(self, number: int) -> int:
        """Rounds complete once batch ``number`` (0-based) is played."""
        return min((number + 1) * self.rounds_per_batch, self.max_rounds)

    @property
    def batches(self) -> int:
        return math.ceil(self.max_rounds / self.rounds_per_batch)

    def missing(self, indices: range, played: Iterable[int]) -> list[int]:
        """The games of ``indices`` not among ``played`` (what a resumed match still owes)."""
        done = set(played)
        return [index for index in indices if index not in done]


def games_per_unit(num_players: int) -> int:
    """Games in one counted unit: a pair for 2 players, one game for 3-4."""
    return 2 if num_players == 2 else 1


def rounds_for(games: int, num_players: int) -> int:
    """Whole rounds that hold at least ``games`` games."""
    return max(1, math.ceil(games / num_players))


def baseline_ladder(first_promoted: str | None) -> list[str]:
    """Player ids of the fixed baselines, weakest first: random, heuristic, the first model.

    Args:
        first_promoted: the config's first promoted model id (None before the first promotion).
    """
    from ringrift.evaluation.players import HEURISTIC_ID, RANDOM_ID

    ladder = [RANDOM_ID, HEURISTIC_ID]
    if first_promoted is not None:
        ladder.append(first_promoted)
    return ladder


def baselines_due(candidate_number: int, every: int, *, last: bool = False) -> bool:
    """Whether the ``candidate_number``-th candidate of a config (1-based) plays the ladder.

    The first candidate does, then every ``every``-th, and the last of a bounded run, so the
    rating curve has anchors at both ends.

    Raises:
        ConfigurationError: ``every`` below 1.
    """
    if every < 1:
        raise ConfigurationError(f"baselines every {every} candidates: must be at least 1")
    return candidate_number == 1 or candidate_number % every == 0 or last
