"""Evaluation: matches, the promotion gate, ratings, and model loading for play.

The one place evaluation logic lives; ``ringrift match`` and the evaluator service both use
it. A module per concept:

- :mod:`~ringrift.evaluation.players`: checkpoints (paths or artifacts) or "no model yet" as
  evaluators and players, and the player ids a match log records;
- :mod:`~ringrift.evaluation.schedule`: rounds with the candidate in every seat, batches,
  seeds, deterministic by game index (resumable), and the baseline ladder;
- :mod:`~ringrift.evaluation.games` and :mod:`~ringrift.evaluation.match`: playing scheduled
  games in lockstep, per-game results, fixed and gated matches;
- :mod:`~ringrift.evaluation.scores`, :mod:`~ringrift.evaluation.estimates`,
  :mod:`~ringrift.evaluation.tally`: score by rank, Elo, intervals, pentanomial counts;
- :mod:`~ringrift.evaluation.sprt` and :mod:`~ringrift.evaluation.gate`: the GSPRT on Elo and
  the gate's settings and decision;
- :mod:`~ringrift.evaluation.ratings`: Bradley-Terry ratings from a match log;
- :mod:`~ringrift.evaluation.characteristics`: the gate's operating characteristics, simulated.
"""

from ringrift.evaluation.estimates import ScoreEstimate, estimate_score, wilson_interval
from ringrift.evaluation.games import GameResult, play_games
from ringrift.evaluation.gate import GateDecision, GateSettings, decide
from ringrift.evaluation.match import GateRun, MatchOptions, play_gate_match, play_match
from ringrift.evaluation.players import (
    HEURISTIC_ID,
    RANDOM_ID,
    UNIFORM_ID,
    ModelSource,
    PlayModel,
    baseline_player,
    load_for_play,
    player_for,
    policy_player,
    search_player,
)
from ringrift.evaluation.ratings import Rating, Ratings, fit_ratings
from ringrift.evaluation.schedule import (
    MatchPlan,
    ScheduledGame,
    baseline_ladder,
    baselines_due,
)
from ringrift.evaluation.scores import PARITY_SCORE, elo_to_score, rank_scores, score_to_elo
from ringrift.evaluation.sprt import Verdict, log_likelihood_ratio
from ringrift.evaluation.tally import PENTANOMIAL_LABELS, MatchSummary, MatchTally

__all__ = [
    "HEURISTIC_ID", "PARITY_SCORE", "PENTANOMIAL_LABELS", "RANDOM_ID", "UNIFORM_ID",
    "GameResult", "GateDecision", "GateRun", "GateSettings", "MatchOptions", "MatchPlan",
    "MatchSummary", "MatchTally", "ModelSource", "PlayModel", "Rating", "Ratings",
    "ScheduledGame", "ScoreEstimate", "Verdict", "baseline_ladder", "baseline_player",
    "baselines_due", "decide", "elo_to_score", "estimate_score", "fit_ratings",
    "load_for_play", "log_likelihood_ratio", "play_games", "play_gate_match", "play_match",
    "player_for", "policy_player", "rank_scores", "score_to_elo",
    "search_player", "wilson_interval",
]
