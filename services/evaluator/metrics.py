"""The evaluator's metrics (``ringrift_evaluator_*``), declared once.

Ratings are gauges per config and model, set from the refit after every evaluation and
from the whole log when the service starts (so a restart does not blank the dashboard).
"""

from __future__ import annotations

from sqlalchemy import Engine

from ringrift.evaluation import Ratings
from ringrift.service.metrics import counter, gauge, histogram
from services.evaluator import matchlog

GAMES_PLAYED = counter("evaluator", "games_played", "Evaluation games played, per config and "
                       "match role (gate, baseline).", ["config", "role"])
EVALUATIONS = counter("evaluator", "evaluations", "Evaluations finished, per config and gate "
                      "verdict (pass, fail, inconclusive).", ["config", "verdict"])
EVALUATION_SECONDS = histogram(
    "evaluator", "evaluation", "seconds", "Wall seconds from an evaluation's start to its "
    "result (gate and baselines, across restarts), per config.", ["config"],
    buckets=(30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400))
SPRT_LLR = gauge("evaluator", "sprt_llr", "nats", "The gate's log-likelihood ratio at its "
                 "last decision, per config (bounds: ringrift_evaluator_sprt_bound_nats).",
                 ["config"])
SPRT_BOUND = gauge("evaluator", "sprt_bound", "nats", "The LLR's stopping bounds of the last "
                   "decision, per config and side (lower, upper).", ["config", "side"])
RATING = gauge("evaluator", "rating", "elo", "Bradley-Terry Elo from the config's whole match "
               "log (random = 0), per config and model.", ["config", "model"])
RATING_STDERR = gauge("evaluator", "rating_stderr", "elo", "Standard error of that rating, "
                      "per config and model.", ["config", "model"])
DEFERRED = gauge("evaluator", "deferred", "bool", "1 while evaluation waits on the cluster "
                 "status (deferred, or this node critical or lost).", [])


def export_ratings(config_key: str, ratings: Ratings) -> None:
    """Set the rating gauges of every rated player of one config."""
    for player_id, rating in ratings.ratings.items():
        RATING.labels(config_key, player_id).set(rating.elo)
        RATING_STDERR.labels(config_key, player_id).set(rating.stderr)


def export_logged_ratings(engine: Engine) -> None:
    """Set the rating gauges of every config in the match log (at start)."""
    for config_key in matchlog.logged_configs(engine):
        export_ratings(config_key, matchlog.config_ratings(engine, config_key))
