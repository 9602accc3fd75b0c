"""Search over game trees: the batched Evaluator protocol, Gumbel AlphaZero and lockstep runners.

Search never touches a network directly: it asks an :class:`Evaluator` for priors and per-seat
values of many leaf positions at once, so a uniform evaluator drives it in tests and a network
evaluator (CPU or CUDA) drives it in self-play. Searches are generators that *yield* their leaf
batches, which is what lets one process advance dozens of games in lockstep and send all their
leaves to the network in one call (see :mod:`ringrift.search.batched`).
"""

from ringrift.search.batched import LeafBatch, LockstepPool, SearchTask, run_lockstep, run_task
from ringrift.search.evaluator import Evaluation, Evaluator, UniformEvaluator
from ringrift.search.gumbel import GumbelConfig, SearchResult, gumbel_search
from ringrift.search.rules import GameRules, engine_rules, terminal_values

__all__ = [
    "Evaluation",
    "Evaluator",
    "GameRules",
    "GumbelConfig",
    "LeafBatch",
    "LockstepPool",
    "SearchResult",
    "SearchTask",
    "UniformEvaluator",
    "engine_rules",
    "gumbel_search",
    "run_lockstep",
    "run_task",
    "terminal_values",
]
