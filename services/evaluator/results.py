"""The library's match summaries, gate decisions and ratings as the events' messages.

What each field means is in ``proto/ringrift/model/v1/model.proto`` and contracts.md
(evaluator, model.proto additions); intervals are 95%.
"""

from __future__ import annotations

from ringrift.evaluation import GateDecision, MatchSummary, Rating, Ratings
from ringrift.events.gen.common.v1.common_pb2 import Estimate
from ringrift.events.gen.model.v1.model_pb2 import GateDecision as GateDecisionMessage
from ringrift.events.gen.model.v1.model_pb2 import OpponentResult, PlayerRating

CONFIDENCE = 0.95


def opponent_result(opponent_id: str, summary: MatchSummary, role: str) -> OpponentResult:
    """The candidate's record against one opponent."""
    estimate = summary.estimate
    return OpponentResult(
        opponent_model_id=opponent_id, wins=summary.wins, draws=summary.draws,
        losses=summary.losses, counts=list(summary.histogram), games=summary.games, role=role,
        win_rate=Estimate(value=estimate.score, lower=estimate.low, upper=estimate.high,
                          confidence=CONFIDENCE),
        elo=Estimate(value=estimate.elo, lower=estimate.elo_low, upper=estimate.elo_high,
                     confidence=CONFIDENCE))


def gate_decision(decision: GateDecision, opponent_id: str) -> GateDecisionMessage:
    """The gate's decision with the statistics it rests on."""
    result = opponent_result(opponent_id, decision.summary, "gate")
    return GateDecisionMessage(
        passed=decision.passed, method=decision.method, threshold=0.0,
        statistic=decision.llr, p_value=0.0, summary=decision.describe(),
        verdict=decision.verdict.value, llr_lower=decision.lower_bound,
        llr_upper=decision.upper_bound, elo0=decision.elo0, elo1=decision.elo1,
        alpha=decision.alpha, beta=decision.beta, games=decision.games,
        max_games=decision.max_games, counts=list(decision.summary.histogram),
        score=result.win_rate, elo=result.elo, opponent_model_id=opponent_id)


def rating_estimate(rating: Rating) -> Estimate:
    low, high = rating.interval
    return Estimate(value=rating.elo, lower=low, upper=high, confidence=CONFIDENCE)


def player_ratings(ratings: Ratings) -> list[PlayerRating]:
    """Every rated player, strongest first."""
    ordered = sorted(ratings.ratings.values(), key=lambda r: (-r.elo, r.player_id))
    return [PlayerRating(player_id=r.player_id, elo=rating_estimate(r), stderr=r.stderr,
                         games=r.games) for r in ordered]
