"""Players for evaluation and play: random, heuristic, policy-only, search; matches and stats.

Every player implements :class:`Player` (``choose`` is a lockstep task), so a match between a
network player and a baseline batches the network's work across all games in flight.
"""

from ringrift.players.base import Player, immediate
from ringrift.players.match import MatchResult, Record, play_match
from ringrift.players.search_player import SearchPlayer
from ringrift.players.simple import PolicyPlayer, RandomPlayer
from ringrift.players.stats import wilson_interval

__all__ = [
    "MatchResult",
    "Player",
    "PolicyPlayer",
    "RandomPlayer",
    "Record",
    "SearchPlayer",
    "immediate",
    "play_match",
    "wilson_interval",
]
