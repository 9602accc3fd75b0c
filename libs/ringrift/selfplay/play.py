"""Self-play: many games advance in lockstep, every decision searched, every move recorded.

Each game is a lockstep task (:mod:`ringrift.search.batched`) that runs one Gumbel search per
position with more than one legal move and plays the move the search selects (Gumbel noise at
the root is the exploration, as in Gumbel MuZero: no temperature schedule). Positions with a
single legal move (RingRift's bookkeeping moves) are played without search and yield no
training sample, since there is nothing for the policy to learn there. The full move list is
kept so a game can be exported as a record and replayed.

Nothing here knows about networks or files: the evaluator is injected, and
:mod:`ringrift.selfplay.samples` turns finished games into training samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ringrift.cli.progress import progress_bar
from ringrift.search import (
    Evaluator,
    GameRules,
    GumbelConfig,
    SearchTask,
    gumbel_search,
    run_lockstep,
)


@dataclass(frozen=True)
class SelfPlaySettings:
    """How self-play games are played."""

    search: GumbelConfig = field(default_factory=GumbelConfig)
    """Search knobs for every decision."""
    max_moves: int | None = None
    """Safety cap on moves per game; a capped game is kept but marked ``truncated``."""
    concurrency: int = 32
    """Games in flight at once; their leaves share one evaluator call."""


@dataclass(frozen=True)
class Decision:
    """A searched position: the state, its legal moves and the improved policy over them."""

    state: Any
    moves: list[Any]
    policy: np.ndarray
    move_index: int
    """Index in the game's move list of the move played from ``state``."""


@dataclass
class SelfPlayGame:
    """A finished self-play game."""

    game_id: str
    moves: list[Any]
    """Every move played, bookkeeping included, from the initial state."""
    decisions: list[Decision]
    ranking: tuple[int, ...]
    """Final rank per player (1 = best); all 1 when truncated."""
    truncated: bool
    evaluations: int
    """Positions this game sent to the evaluator."""
    final_state: Any = None
    """The last position (terminal unless truncated)."""


@dataclass
class SelfPlayBatch:
    """Games from one call, with the figures a benchmark or progress table wants."""

    games: list[SelfPlayGame]
    seconds: float

    @property
    def positions(self) -> int:
        return sum(len(game.moves) for game in self.games)

    @property
    def decisions(self) -> int:
        return sum(len(game.decisions) for game in self.games)


def play_games(new_game: Callable[[], Any], rules: GameRules, evaluator: Evaluator,
               games: int, settings: SelfPlaySettings, *, seed: int,
               game_id_prefix: str = "game") -> SelfPlayBatch:
    """Play ``games`` self-play games in lockstep.

    Args:
        new_game: makes the initial position.
        rules: the game's rule functions.
        evaluator: scores leaves for every seat (self-play uses one model for all seats).
        games: number of games.
        settings: search and pacing.
        seed: game ``g`` draws from ``default_rng([seed, g])``, whatever the concurrency.
        game_id_prefix: game ids are ``<prefix>-<g>``; make it unique per run and generation.

    Returns:
        The games, in order, and the wall time.
    """
    started = time.perf_counter()
    tasks = [game_task(new_game, rules, evaluator, settings,
                        np.random.default_rng([seed, index]), f"{game_id_prefix}-{index}")
             for index in range(games)]
    with progress_bar(description="self-play", total=games, unit="game") as bar:
        finished = run_lockstep(tasks, on_done=lambda _i, _g: bar.update(1),
                                concurrency=settings.concurrency)
    return SelfPlayBatch(finished, time.perf_counter() - started)


def game_task(new_game: Callable[[], Any], rules: GameRules, evaluator: Evaluator,
              settings: SelfPlaySettings, rng: np.random.Generator,
              game_id: str) -> SearchTask[SelfPlayGame]:
    """One self-play game as a lockstep task (run it with ``run_lockstep`` or a ``LockstepPool``).

    Args:
        new_game: makes the initial position (called when the task starts).
        rules: the game's rule functions.
        evaluator: scores leaves for every seat.
        settings: search knobs and the move cap (``concurrency`` is the runner's business).
        rng: the game's own random generator (root Gumbel noise).
        game_id: the id the finished game carries.

    Returns:
        A generator that yields leaf batches and returns the finished :class:`SelfPlayGame`.
    """
    state = new_game()
    played: list[Any] = []
    decisions: list[Decision] = []
    evaluations = 0
    while not state.is_terminal:
        if settings.max_moves is not None and len(played) >= settings.max_moves:
            return SelfPlayGame(game_id, played, decisions, (1,) * state.num_players, True,
                                evaluations, state)
        moves = rules.legal_moves(state)
        if len(moves) == 1:
            move = moves[0]
        else:
            result = yield from gumbel_search(state, rules, evaluator, settings.search, rng,
                                              moves=moves)
            decisions.append(Decision(state, result.moves, result.improved_policy, len(played)))
            evaluations += result.evaluations
            move = result.move
        played.append(move)
        state = rules.apply_move(state, move)
    return SelfPlayGame(game_id, played, decisions, tuple(rules.final_ranking(state)), False,
                        evaluations, state)
