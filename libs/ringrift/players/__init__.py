"""Players: random, heuristic, policy-only and search; matches between them live in evaluation.

Every player implements :class:`Player` (``choose`` is a lockstep task), so a match between a
network player and a baseline batches the network's work across all games in flight
(:mod:`ringrift.evaluation.games`).
"""

from ringrift.players.base import Player, immediate
from ringrift.players.search_player import SearchPlayer
from ringrift.players.simple import PolicyPlayer, RandomPlayer

__all__ = ["Player", "PolicyPlayer", "RandomPlayer", "SearchPlayer", "immediate"]
