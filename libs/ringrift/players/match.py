"""Matches: N games between 2-4 players, rotating seats, played in lockstep, with Wilson intervals.

Seats rotate each game (game ``g`` puts ``players[(s + g) % n]`` in seat ``s``) so no player keeps
the first-move advantage. All games advance together through
:func:`ringrift.search.run_lockstep`, so network players evaluate one batch for all games. Each
game draws its randomness from its own generator seeded by (seed, game index): results do not
depend on how many games run at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ringrift.cli.progress import progress_bar
from ringrift.players.base import Player
from ringrift.players.stats import wilson_interval
from ringrift.search import GameRules, SearchTask, run_lockstep


@dataclass
class Record:
    """One player's results; a draw (shared first place) counts half in its score."""

    name: str
    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson 95% interval of the score."""
        return wilson_interval(self.wins + 0.5 * self.draws, self.games)

    def __str__(self) -> str:
        low, high = self.interval
        return (f"{self.name} {self.wins}-{self.draws}-{self.losses} "
                f"(score {self.score:.2f}, 95% CI {low:.2f}-{high:.2f})")


@dataclass
class MatchResult:
    """Per-player records (same order as the players given) and totals."""

    records: list[Record]
    games: int = 0
    moves: int = 0
    truncated: int = 0
    seconds: float = 0.0
    lengths: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    seating: tuple[int, ...]
    ranking: tuple[int, ...]
    moves: int
    truncated: bool


def play_match(players: Sequence[Player], new_game: Callable[[], Any], rules: GameRules,
               games: int, *, seed: int = 0, concurrency: int | None = 64,
               max_moves: int | None = None, description: str | None = None) -> MatchResult:
    """Play ``games`` games between ``players`` (one per seat) and tally their results.

    Args:
        players: one per seat of the game ``new_game`` creates (2-4).
        new_game: makes the initial position.
        rules: the game's rule functions.
        games: number of games.
        seed: base seed; game ``g`` uses ``default_rng([seed, g])``.
        concurrency: games in flight at once (their leaves share one evaluator call).
        max_moves: a safety cap; a game that reaches it counts as a draw for everyone and in
            ``truncated``.
        description: label of the progress bar.

    Returns:
        A :class:`MatchResult`.
    """
    started = time.perf_counter()
    tasks = [_play_game(players, new_game, rules, index, seed, max_moves)
             for index in range(games)]
    with progress_bar(description=description or "match", total=games, unit="game") as bar:
        outcomes = run_lockstep(tasks, on_done=lambda _i, _o: bar.update(1),
                                concurrency=concurrency)
    result = MatchResult([Record(player.name) for player in players], games=games)
    for outcome in outcomes:
        result.moves += outcome.moves
        result.truncated += outcome.truncated
        result.lengths.append(outcome.moves)
        firsts = sum(1 for rank in outcome.ranking if rank == 1)
        for seat, player_index in enumerate(outcome.seating):
            record = result.records[player_index]
            if outcome.ranking[seat] != 1:
                record.losses += 1
            elif firsts == 1:
                record.wins += 1
            else:
                record.draws += 1
    result.seconds = time.perf_counter() - started
    return result


def _play_game(players: Sequence[Player], new_game: Callable[[], Any], rules: GameRules,
               index: int, seed: int, max_moves: int | None) -> SearchTask[_Outcome]:
    rng = np.random.default_rng([seed, index])
    state = new_game()
    count = state.num_players
    if count != len(players):
        raise ValueError(f"{len(players)} players for a {count}-player game")
    seating = tuple((seat + index) % count for seat in range(count))
    played = 0
    while not state.is_terminal:
        if max_moves is not None and played >= max_moves:
            return _Outcome(seating, (1,) * count, played, True)
        moves = rules.legal_moves(state)
        if len(moves) == 1:
            move = moves[0]
        else:
            player = players[seating[state.current_player - 1]]
            move = yield from player.choose(state, moves, rng)
        state = rules.apply_move(state, move)
        played += 1
    return _Outcome(seating, tuple(rules.final_ranking(state)), played, False)
