"""Gumbel AlphaZero search (Danihelka et al., 2022) for 2-4 players, as a lockstep task.

At the root, Gumbel-top-k sampling picks ``max_considered_actions`` candidate moves and
sequential halving spends the simulation budget on them, dropping the worse half after each
phase by ``gumbel + logit + sigma(completed Q)``. This policy improvement is guaranteed even
with a handful of simulations, which is what makes self-play affordable on CPUs. The improved
policy target is ``softmax(logits + sigma(completed Q))`` over all legal moves, where unvisited
moves get the mixed value estimate (mctx's ``qtransform_completed_by_mix_value``).

Below the root, each node picks by the Gumbel MuZero deterministic rule (``improved policy -
visit share``) or by PUCT. Values are vectors, one per seat; a node reads the entry of the
player to move there, so every seat maximises its own value and 3-4 player games need no
"negate on the way up" convention (RingRift also has consecutive moves by the same player).

Simulations within one sequential-halving round go to distinct root moves, hence disjoint
subtrees that cannot influence each other, so the round's leaves are yielded as one batch
without virtual loss and the result is identical to running them one by one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ringrift.search.batched import LeafBatch, SearchTask
from ringrift.search.evaluator import Evaluation, Evaluator
from ringrift.search.node import Node, completed_q, improved_logits, make_child, softmax
from ringrift.search.rules import GameRules


@dataclass(frozen=True)
class GumbelConfig:
    """The knobs of one search; defaults follow mctx's ``gumbel_muzero_policy``."""

    simulations: int = 32
    """Simulation budget per move (network evaluations, fewer when leaves are terminal)."""
    max_considered_actions: int = 16
    """Root moves kept after Gumbel-top-k; sequential halving starts from these."""
    interior_selection: Literal["gumbel", "puct"] = "gumbel"
    """Rule below the root: Gumbel MuZero's deterministic improved-policy rule, or PUCT."""
    c_visit: float = 50.0
    """sigma(q) = (c_visit + max child visits) * c_scale * q: how fast Q outweighs the prior."""
    c_scale: float = 0.1
    """See ``c_visit``."""
    c_puct: float = 1.25
    """Exploration weight when ``interior_selection == "puct"``."""
    gumbel_scale: float = 1.0
    """Scale of the root Gumbel noise; 0 plays the best move deterministically (evaluation)."""
    rescale_values: bool = True
    """Min-max rescale completed Q-values per node (mctx default) instead of mapping [-1, 1]."""
    skip_forced_moves: bool = True
    """Apply single-legal-move continuations inside the tree without spending an evaluation."""

    def __post_init__(self) -> None:
        if self.simulations < 1:
            raise ValueError(f"simulations must be >= 1, got {self.simulations}")
        if self.max_considered_actions < 1:
            raise ValueError("max_considered_actions must be >= 1")
        if self.interior_selection not in ("gumbel", "puct"):
            raise ValueError(f"unknown interior_selection {self.interior_selection!r}")


@dataclass(frozen=True)
class SearchResult:
    """The outcome of one search from one root position."""

    moves: list[Any]
    """Legal moves at the root, in the rules' order."""
    action: int
    """Index in ``moves`` of the chosen move."""
    improved_policy: np.ndarray
    """Policy target over ``moves``, sums to 1."""
    root_values: np.ndarray
    """Per-seat value estimate of the root after search."""
    visit_counts: np.ndarray
    """Simulations spent under each root move."""
    evaluations: int
    """Positions sent to the evaluator by this search."""

    @property
    def move(self) -> Any:
        return self.moves[self.action]


def gumbel_search(root_state: Any, rules: GameRules, evaluator: Evaluator,
                  config: GumbelConfig, rng: np.random.Generator,
                  moves: Sequence[Any] | None = None) -> SearchTask[SearchResult]:
    """Search ``root_state``; a generator to drive with ``run_task`` or ``run_lockstep``.

    Args:
        root_state: a non-terminal position.
        rules: the game's rule functions.
        evaluator: scores leaves (yielded as :class:`LeafBatch` requests).
        config: the knobs.
        rng: the only source of randomness (the root Gumbel noise).
        moves: the root's legal moves when the caller already has them.

    Returns:
        (as the generator's return value) a :class:`SearchResult`.
    """
    root_moves = list(rules.legal_moves(root_state) if moves is None else moves)
    num_players = root_state.num_players
    if len(root_moves) == 1:
        return SearchResult(root_moves, 0, np.ones(1), np.zeros(num_players),
                            np.zeros(1, dtype=np.int64), 0)
    [root_eval] = yield LeafBatch(evaluator, [root_state], [root_moves])
    root = Node(root_state, root_moves)
    root.expand(root_eval)
    evaluations = 1

    gumbel = rng.gumbel(size=len(root_moves)) * config.gumbel_scale
    considered_count = min(config.max_considered_actions, len(root_moves))
    remaining = _top(gumbel + root.logits, considered_count)
    phases = max(1, math.ceil(math.log2(considered_count)))
    done = 0
    while done < config.simulations:
        per_action = max(1, config.simulations // (phases * len(remaining)))
        for _ in range(per_action):
            if config.simulations - done < len(remaining):
                # A truncated last round visits the currently best-scoring moves, so the
                # final choice among the most-visited is not left to the order of the list.
                scores = _root_scores(root, gumbel, config)
                remaining = remaining[np.argsort(-scores[remaining], kind="stable")]
            batch = remaining[: config.simulations - done]
            evaluations += yield from _simulate_round(root, batch, rules, evaluator, config)
            done += len(batch)
            if done >= config.simulations:
                break
        if len(remaining) > 2:
            scores = _root_scores(root, gumbel, config)
            remaining = remaining[np.argsort(-scores[remaining], kind="stable")]
            remaining = remaining[: max(2, len(remaining) // 2)]

    scores = _root_scores(root, gumbel, config)
    most_visited = remaining[root.child_visits[remaining] == root.child_visits[remaining].max()]
    action = int(most_visited[np.argmax(scores[most_visited])])
    policy = softmax(improved_logits(root, config))
    root_values = ((root.raw_values + root.child_value_sums.sum(axis=0))
                   / (1 + root.child_visits.sum()))
    return SearchResult(root_moves, action, policy, root_values,
                        root.child_visits.copy(), evaluations)


def _top(scores: np.ndarray, count: int) -> np.ndarray:
    return np.argsort(-scores, kind="stable")[:count]


def _root_scores(root: Node, gumbel: np.ndarray, config: GumbelConfig) -> np.ndarray:
    return gumbel + improved_logits(root, config)


def _simulate_round(root: Node, actions: np.ndarray, rules: GameRules, evaluator: Evaluator,
                    config: GumbelConfig) -> SearchTask[int]:
    """One simulation under each root move of ``actions``; their leaves evaluated as a batch."""
    paths: list[list[tuple[Node, int]]] = []
    leaves: list[Node] = []
    for root_action in actions:
        path = [(root, int(root_action))]
        node, action = root, int(root_action)
        while True:
            child = node.children[action]
            if child is None:
                child = make_child(node, action, rules, config.skip_forced_moves)
                node.children[action] = child
                break
            if child.terminal:
                break
            node, action = child, _select_interior(child, config)
            path.append((node, action))
        paths.append(path)
        leaves.append(child)
    to_evaluate = [leaf for leaf in leaves if not leaf.terminal and not leaf.expanded]
    if to_evaluate:
        answers: list[Evaluation] = yield LeafBatch(
            evaluator, [leaf.state for leaf in to_evaluate], [leaf.moves for leaf in to_evaluate])
        for leaf, answer in zip(to_evaluate, answers, strict=True):
            leaf.expand(answer)
    for path, leaf in zip(paths, leaves, strict=True):
        for node, action in path:
            node.child_visits[action] += 1
            node.child_value_sums[action] += leaf.raw_values
    return len(to_evaluate)


def _select_interior(node: Node, config: GumbelConfig) -> int:
    visits = node.child_visits
    total = int(visits.sum())
    if config.interior_selection == "gumbel":
        probs = softmax(improved_logits(node, config))
        return int(np.argmax(probs - visits / (1.0 + total)))
    q = completed_q(node, rescale=False)
    exploration = config.c_puct * node.priors * math.sqrt(max(1, total)) / (1.0 + visits)
    return int(np.argmax(q + exploration))
