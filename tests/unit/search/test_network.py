"""NetworkEvaluator on square8 with a tiny network (CPU; CUDA when present).

Checks: priors are the softmax of the network's logits at the legal moves' policy indices, in
the legal moves' order; values are the network's mover-relative values rotated to absolute
seat order (3 players, so a wrong rotation shows); a large request split into chunks gives the
same answers; Gumbel search runs on it; the counters add up.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder
from ringrift.models import build_model
from ringrift.search import GumbelConfig, gumbel_search, run_task
from ringrift.search.network import NetworkEvaluator
from ringrift.training.targets import values_to_absolute
from tests.utils import engine

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def positions(players):
    states = [engine.random_position(players=players, plies=plies, seed=plies)
              for plies in (0, 7, 25, 40)]
    return [s for s in states if not s.is_terminal]


@pytest.mark.parametrize("device", DEVICES)
def test_priors_and_values_follow_the_network(device):
    config = GameConfig("square8", 3)
    torch.manual_seed(0)
    model = build_model(config, "tiny").eval()
    encoder = Encoder.for_config(config)
    evaluator = NetworkEvaluator(model, encoder, device=device)
    rules = engine.rules()
    states = positions(3)
    legal = [rules.legal_moves(s) for s in states]
    evaluations = evaluator.evaluate(states, legal)
    planes, globals_ = encoder.encode_batch(states)
    with torch.inference_mode():
        logits, values = model.to(device)(torch.as_tensor(planes, device=device),
                                          torch.as_tensor(globals_, device=device))
    logits, values = logits.cpu().numpy(), values.cpu().numpy()
    for row, (state, moves, evaluation) in enumerate(zip(states, legal, evaluations, strict=True)):
        chosen = logits[row, encoder.legal_indices(state, moves)]
        expected = np.exp(chosen - chosen.max())
        np.testing.assert_allclose(evaluation.priors, expected / expected.sum(), rtol=1e-5)
        np.testing.assert_allclose(
            evaluation.values, values_to_absolute(values[row], state.current_player), rtol=1e-5)
    assert evaluator.positions_evaluated == len(states) and evaluator.calls == 1


def test_chunked_requests_match_one_call_and_search_runs():
    config = GameConfig("square8", 2)
    torch.manual_seed(1)
    encoder = Encoder.for_config(config)
    model = build_model(config, "tiny")
    rules = engine.rules()
    states = positions(2)
    legal = [rules.legal_moves(s) for s in states]
    whole = NetworkEvaluator(model, encoder, device="cpu").evaluate(states, legal)
    chunked = NetworkEvaluator(model, encoder, device="cpu", max_batch=1).evaluate(states, legal)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a.priors, b.priors, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(a.values, b.values, rtol=1e-4, atol=1e-6)
    evaluator = NetworkEvaluator(model, encoder, device="cpu")
    result = run_task(gumbel_search(states[1], rules, evaluator, GumbelConfig(simulations=8),
                                    np.random.default_rng(0)))
    assert result.move in legal[1]
    assert result.improved_policy.sum() == pytest.approx(1.0)
    assert evaluator.positions_evaluated == result.evaluations
