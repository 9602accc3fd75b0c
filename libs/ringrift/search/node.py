"""Search tree nodes and the completed-Q arithmetic that Gumbel search shares with its targets.

A node keeps its children's statistics in arrays (visits, per-seat value sums) rather than in
child objects, so selection is a few vector operations and a node that is never visited costs
one ``None`` in a list. Q-values are always read from the point of view of the player to move at
the node (``node.player``), which is how each seat maximises its own value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ringrift.search.evaluator import Evaluation
from ringrift.search.rules import GameRules, terminal_values

if TYPE_CHECKING:
    from ringrift.search.gumbel import GumbelConfig

_MIN_PROB = 1e-12


class Node:
    """One position in the tree; expanded once its evaluation (or terminal value) is known."""

    __slots__ = ("state", "moves", "player", "terminal", "raw_values", "priors", "logits",
                 "children", "child_visits", "child_value_sums")

    def __init__(self, state: Any, moves: list[Any],
                 terminal_value: np.ndarray | None = None) -> None:
        self.state = state
        self.moves = moves
        self.player = state.current_player - 1
        self.terminal = terminal_value is not None
        self.raw_values: np.ndarray | None = terminal_value
        self.priors: np.ndarray | None = None
        self.logits: np.ndarray | None = None
        self.children: list[Node | None] = []
        self.child_visits = np.zeros(0, dtype=np.int64)
        self.child_value_sums = np.zeros((0, state.num_players))

    @property
    def expanded(self) -> bool:
        return self.priors is not None

    def expand(self, evaluation: Evaluation) -> None:
        """Attach the evaluator's priors over ``moves`` and its per-seat values."""
        priors = np.asarray(evaluation.priors, dtype=np.float64)
        if priors.shape != (len(self.moves),):
            raise ValueError(f"evaluator returned {priors.shape} priors for "
                             f"{len(self.moves)} legal moves")
        self.priors = priors
        self.logits = np.log(np.maximum(priors, _MIN_PROB))
        self.raw_values = np.asarray(evaluation.values, dtype=np.float64)
        count = len(self.moves)
        self.children = [None] * count
        self.child_visits = np.zeros(count, dtype=np.int64)
        self.child_value_sums = np.zeros((count, self.state.num_players))


def make_child(parent: Node, action: int, rules: GameRules, skip_forced: bool) -> Node:
    """The node reached by ``parent.moves[action]``, unexpanded unless it is terminal.

    With ``skip_forced``, single-legal-move continuations (RingRift's bookkeeping moves) are
    applied straight away: they carry no decision, so spending an evaluation on them is waste.
    """
    state = rules.apply_move(parent.state, parent.moves[action])
    while not state.is_terminal:
        moves = rules.legal_moves(state)
        if not (skip_forced and len(moves) == 1):
            return Node(state, moves)
        state = rules.apply_move(state, moves[0])
    return Node(state, [], terminal_values(rules.final_ranking(state)).astype(np.float64))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def completed_q(node: Node, *, rescale: bool) -> np.ndarray:
    """Q of each move for ``node.player``; unvisited moves get the mixed value estimate.

    The mixed value blends the node's own evaluation with the prior-weighted Q of the visited
    moves (mctx ``_compute_mixed_value``), a better guess for an unvisited move than either.

    Args:
        node: an expanded node.
        rescale: min-max rescale to [0, 1] over the node's moves; otherwise values stay in
            [-1, 1].
    """
    assert node.priors is not None and node.raw_values is not None
    visits = node.child_visits
    visited = visits > 0
    q = np.zeros(len(visits))
    q[visited] = node.child_value_sums[visited, node.player] / visits[visited]
    total_visits = visits.sum()
    if total_visits:
        visited_prior = node.priors[visited]
        weighted_q = float(np.dot(visited_prior, q[visited]) / max(visited_prior.sum(), _MIN_PROB))
        mixed = (node.raw_values[node.player] + total_visits * weighted_q) / (1 + total_visits)
    else:
        mixed = float(node.raw_values[node.player])
    q[~visited] = mixed
    if not rescale:
        return q
    low, high = q.min(), q.max()
    return (q - low) / max(high - low, 1e-8)


def improved_logits(node: Node, config: GumbelConfig) -> np.ndarray:
    """``logits + sigma(completed Q)``: the improved policy before its softmax."""
    q = completed_q(node, rescale=config.rescale_values)
    if not config.rescale_values:
        q = (q + 1.0) / 2.0
    max_visits = int(node.child_visits.max()) if len(node.child_visits) else 0
    assert node.logits is not None
    return node.logits + (config.c_visit + max_visits) * config.c_scale * q
