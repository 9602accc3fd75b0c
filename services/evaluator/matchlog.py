"""The match log: every game an evaluation played, stored as it ends, read back to resume or rate.

Each game is committed in its own short transaction the moment it ends (the match runs
for minutes; no transaction may stay open that long), keyed by (evaluation, opponent,
game index). Because a match's schedule is a function of the game index and the match
seed alone (:mod:`ringrift.evaluation.schedule`), a killed match resumes by handing the
stored results back as ``played``: it plays exactly the missing indices and reaches the
decision the uninterrupted match would have.

Ratings are a pure function of the log: :func:`config_ratings` refits a config's
Bradley-Terry ratings (random = 0) from all of its games every time, never from deltas.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ringrift.evaluation import GameResult, Ratings, fit_ratings
from ringrift.storage.database import session_scope
from services.evaluator.tables import MatchGame

GATE = "gate"
BASELINE = "baseline"


def store_game(engine: Engine, *, evaluation_id: str, opponent_id: str, config_key: str,
               role: str, result: GameResult) -> None:
    """Commit one finished game (a second copy of the same game is ignored).

    A copy can only come from a run that lost its job to another owner while both
    played; both computed the same game from the same seed, so keeping the first is right.
    """
    row = {"evaluation_id": evaluation_id, "opponent_id": opponent_id,
           "game_index": result.index, "config_key": config_key, "role": role,
           "round": result.round, "candidate_seat": result.candidate_seat,
           "players": list(result.players), "ranking": list(result.ranking),
           "length": result.length, "truncated": result.truncated,
           "played_at": datetime.now(UTC)}
    with session_scope(engine) as session:
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(MatchGame).values(row).on_conflict_do_nothing())


def stored_results(engine: Engine, evaluation_id: str, opponent_id: str) -> list[GameResult]:
    """The games of one match stored so far (what a resumed match must not replay)."""
    with session_scope(engine, read_only=True) as session:
        rows = session.scalars(select(MatchGame).where(
            MatchGame.evaluation_id == evaluation_id,
            MatchGame.opponent_id == opponent_id).order_by(MatchGame.game_index))
        return [_result(row) for row in rows]


def games_played(session: Session, evaluation_id: str) -> int:
    """Games stored for one evaluation, over all its matches."""
    return int(session.scalar(select(func.count()).select_from(MatchGame).where(
        MatchGame.evaluation_id == evaluation_id)) or 0)


def config_ratings(engine: Engine, config_key: str) -> Ratings:
    """Bradley-Terry ratings of every player in the config's whole log, random fixed at 0."""
    with session_scope(engine, read_only=True) as session:
        rows = session.execute(select(MatchGame.players, MatchGame.ranking).where(
            MatchGame.config_key == config_key)).all()
    return fit_ratings(_Rated(tuple(players), tuple(ranking)) for players, ranking in rows)


def logged_configs(engine: Engine) -> list[str]:
    """The configs with games in the log."""
    with session_scope(engine, read_only=True) as session:
        return list(session.scalars(select(MatchGame.config_key).distinct()
                                    .order_by(MatchGame.config_key)))


class _Rated:
    """What a rating needs of a stored game."""

    __slots__ = ("players", "ranking")

    def __init__(self, players: tuple[str, ...], ranking: tuple[int, ...]) -> None:
        self.players = players
        self.ranking = ranking


def _result(row: MatchGame) -> GameResult:
    return GameResult(row.game_index, row.round, row.candidate_seat,
                      tuple(str(p) for p in row.players), tuple(int(r) for r in row.ranking),
                      row.length, row.truncated)
