"""Playing scheduled match games in lockstep, each game's result returned on its own.

All games of a batch advance together through :func:`ringrift.search.run_lockstep`, so a
network player evaluates one batch of leaves for all games in flight. Each game draws its
randomness from its own generator, seeded by its schedule entry (``(match seed, round)``), so
which games run together, and how many, does not change any game.

A :class:`GameResult` holds what a match log stores per game: the game's index and round, the
player id of every seat, the final competition ranking, the moves and whether the move cap
ended it. A stored result can be read back with :meth:`GameResult.from_dict` (without its
moves) to resume a match or refit ratings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ringrift.cli.progress import progress_bar
from ringrift.evaluation.schedule import ScheduledGame
from ringrift.players.base import Player
from ringrift.search import GameRules, SearchTask, run_lockstep


@dataclass(frozen=True)
class GameResult:
    """One finished game of a match."""

    index: int
    round: int
    candidate_seat: int
    """0-based seat of the match's candidate."""
    players: tuple[str, ...]
    """Player id per seat (seat 1 first)."""
    ranking: tuple[int, ...]
    """Competition rank per seat (1 = best; ties share a rank); all 1 when truncated."""
    length: int
    """Moves played."""
    truncated: bool = False
    """The move cap ended the game; it counts as a tie of all seats."""
    moves: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    """The engine's moves, in order (empty for a result read back from storage)."""

    @property
    def num_players(self) -> int:
        return len(self.players)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (JSON-ready, without the moves)."""
        return {"index": self.index, "round": self.round, "candidate_seat": self.candidate_seat,
                "players": list(self.players), "ranking": list(self.ranking),
                "length": self.length, "truncated": self.truncated}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GameResult:
        """A result from its stored form.

        Raises:
            ValueError: a field is missing or inconsistent.
        """
        try:
            result = cls(int(data["index"]), int(data["round"]), int(data["candidate_seat"]),
                         tuple(str(p) for p in data["players"]),
                         tuple(int(r) for r in data["ranking"]), int(data["length"]),
                         bool(data.get("truncated", False)))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a stored game result: {error}") from None
        if len(result.ranking) != len(result.players) or not (
                0 <= result.candidate_seat < len(result.players)):
            raise ValueError(f"inconsistent game result {data}")
        return result


def play_games(games: Sequence[ScheduledGame], candidate: Player, opponent: Player,
               new_game: Callable[[], Any], rules: GameRules, *,
               concurrency: int | None = 64, max_moves: int | None = None,
               on_game: Callable[[GameResult], None] | None = None,
               description: str | None = None) -> list[GameResult]:
    """Play ``games`` (schedule entries of one match) and return their results in order.

    Args:
        games: the games to play, e.g. one batch of :class:`~ringrift.evaluation.MatchPlan`.
        candidate: the player of each game's candidate seat.
        opponent: the player of every other seat (the same object: its network batches
            across seats and games).
        new_game: makes the initial position.
        rules: the game's rule functions.
        concurrency: games in flight at once.
        max_moves: a safety cap; a game that reaches it is a tie of all seats, ``truncated``.
        on_game: called with each result as its game ends (to store it at once).
        description: label of the progress bar.

    Returns:
        One :class:`GameResult` per entry of ``games``, in the same order.
    """
    ids = (candidate.name, opponent.name)
    tasks = [_play_game(game, (candidate, opponent), ids, new_game, rules, max_moves)
             for game in games]
    with progress_bar(description=description or "match", total=len(tasks), unit="game") as bar:
        def done(_index: int, result: GameResult) -> None:
            bar.update(1)
            if on_game is not None:
                on_game(result)

        return run_lockstep(tasks, on_done=done, concurrency=concurrency)


def _play_game(game: ScheduledGame, participants: tuple[Player, Player], ids: tuple[str, str],
               new_game: Callable[[], Any], rules: GameRules,
               max_moves: int | None) -> SearchTask[GameResult]:
    rng = np.random.default_rng(list(game.seed))
    state = new_game()
    if state.num_players != game.num_players:
        raise ValueError(f"a {game.num_players}-player schedule for a "
                         f"{state.num_players}-player game")
    seating = game.seating
    players = tuple(ids[participant] for participant in seating)
    moves: list[Any] = []
    while not state.is_terminal:
        if max_moves is not None and len(moves) >= max_moves:
            return GameResult(game.index, game.round, game.candidate_seat, players,
                              (1,) * game.num_players, len(moves), True, tuple(moves))
        legal = rules.legal_moves(state)
        if len(legal) == 1:
            move = legal[0]
        else:
            player = participants[seating[state.current_player - 1]]
            move = yield from player.choose(state, legal, rng)
        state = rules.apply_move(state, move)
        moves.append(move)
    return GameResult(game.index, game.round, game.candidate_seat, players,
                      tuple(int(rank) for rank in rules.final_ranking(state)), len(moves),
                      False, tuple(moves))
