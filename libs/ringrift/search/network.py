"""NetworkEvaluator: the Evaluator that asks a policy-value network, in batches, on CPU or CUDA.

It is the one adapter between search and the models: it encodes a batch of states with the
model's encoder, runs one forward pass under ``torch.inference_mode``, keeps the logits of each
state's legal moves only (``Encoder.legal_indices``) and softmaxes them, and turns the network's
values (seats relative to the player to move) into the absolute seat order search uses. Large
requests are split into chunks of ``max_batch`` so a lockstep runner with hundreds of games cannot
exhaust accelerator memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ringrift.search.evaluator import Evaluation

if TYPE_CHECKING:
    import torch

    from ringrift.encoding import Encoder
    from ringrift.models import LoadedModel


def default_device() -> str:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class NetworkEvaluator:
    """Scores positions with a network; counts calls, positions and time spent for benchmarks."""

    def __init__(self, model: LoadedModel | torch.nn.Module, encoder: Encoder, *,
                 device: str | None = None, max_batch: int = 1024) -> None:
        """Wrap ``model`` (a LoadedModel or a bare network) for ``encoder``'s positions.

        Args:
            model: the network, or a LoadedModel from ``ringrift.models.load_checkpoint``.
            encoder: the encoder the network was trained with.
            device: ``cpu``, ``cuda``, ``cuda:1``...; None picks CUDA when present.
            max_batch: largest forward pass; bigger requests are split.
        """
        network = getattr(model, "model", model)
        self.device = device or default_device()
        self.network = network.to(self.device).eval()
        self.encoder = encoder
        self.max_batch = max_batch
        self.calls = 0
        self.positions_evaluated = 0
        self.seconds = 0.0

    def evaluate(self, states: Sequence[Any],
                 legal_moves_per_state: Sequence[Sequence[Any]]) -> list[Evaluation]:
        started = time.perf_counter()
        evaluations: list[Evaluation] = []
        for start in range(0, len(states), self.max_batch):
            stop = start + self.max_batch
            evaluations.extend(self._evaluate_chunk(states[start:stop],
                                                    legal_moves_per_state[start:stop]))
        self.calls += 1
        self.positions_evaluated += len(states)
        self.seconds += time.perf_counter() - started
        return evaluations

    def _evaluate_chunk(self, states: Sequence[Any],
                        legal: Sequence[Sequence[Any]]) -> list[Evaluation]:
        import torch

        if not states:
            return []
        planes, globals_ = self.encoder.encode_batch(list(states))
        with torch.inference_mode():
            logits, values = self.network(
                torch.as_tensor(planes, device=self.device),
                torch.as_tensor(globals_, device=self.device))
            logits_np = logits.float().cpu().numpy()
            values_np = values.float().cpu().numpy().astype(np.float64)
        evaluations = []
        for row, (state, moves) in enumerate(zip(states, legal, strict=True)):
            indices = self.encoder.legal_indices(state, moves)
            chosen = logits_np[row, indices].astype(np.float64)
            priors = np.exp(chosen - chosen.max())
            priors /= priors.sum()
            # Network values are relative to the mover (index 0); search wants seat order.
            absolute = np.roll(values_np[row], state.current_player - 1)
            evaluations.append(Evaluation(priors, absolute))
        return evaluations
