"""The consistency checks every shard passes, on write and on read.

Split from :mod:`ringrift.training.shards` (which calls them) so that the reader can run them
chunk by chunk: the layout checks look only at array shapes (known from the ``.npy`` headers
before any data is read), the offset checks at the policy offsets of the whole shard, and the
content checks at one chunk of rows at a time. Each failure raises :class:`ShardError` naming
what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ringrift.configs import GameConfig
from ringrift.training.errors import ShardError, ShardMismatch

if TYPE_CHECKING:
    from ringrift.training.shards import ShardData, ShardMetadata

ShapeMap = Mapping[str, tuple[int, ...]]


def validate(where: str, data: ShardData) -> None:
    """Every check a reader makes, on a whole shard's arrays (before it is written).

    Raises:
        ShardError: the first inconsistency found.
    """
    check_layout(where, data.metadata, {name: getattr(data, name).shape for name in (
        "planes", "globals", "values", "game_index", "policy_offsets", "policy_indices",
        "policy_probs")})
    check_offsets(where, data.policy_offsets, len(data.policy_indices))
    check_content(where, data)


def check_layout(where: str, meta: ShardMetadata, shapes: ShapeMap) -> None:
    """Check the arrays' shapes against each other and the metadata's sample count.

    Raises:
        ShardError: the first inconsistency found.
    """
    sample_count, num_players = meta.sample_count, meta.num_players
    planes = shapes["planes"]
    n = planes[0] if len(planes) == 4 else -1
    checks: list[tuple[bool, str]] = [
        (len(planes) == 4 and n > 0, f"planes must be [N, C, H, W], got {planes}"),
        (sample_count == n, f"metadata says {sample_count} samples, planes hold {n}"),
        (len(shapes["globals"]) == 2 and shapes["globals"][0] == n, "globals must be [N, G]"),
        (shapes["values"] == (n, num_players),
         f"values must be [N, {num_players}], got {shapes['values']}"),
        (shapes["game_index"] == (n,), "game_index must be [N]"),
        (shapes["policy_offsets"] == (n + 1,), "policy_offsets must be [N + 1]"),
        (shapes["policy_indices"] == shapes["policy_probs"]
         and len(shapes["policy_indices"]) == 1,
         "policy indices and probabilities differ in length"),
    ]
    for ok, reason in checks:
        if not ok:
            raise ShardError(where, reason)


def check_offsets(where: str, offsets: np.ndarray, entries: int) -> None:
    """Check that the policy offsets partition ``entries`` policy entries, one run per sample.

    Raises:
        ShardError: the offsets do not start at 0, end at ``entries`` or give a sample none.
    """
    if offsets[0] != 0 or offsets[-1] != entries or (np.diff(offsets) <= 0).any():
        raise ShardError(where, "policy offsets must start at 0, end at the number of entries "
                                "and give every sample at least one entry")


def check_content(where: str, data: ShardData) -> None:
    """Check the values of a run of rows (its ``policy_offsets`` rebased to start at 0).

    Raises:
        ShardError: an index out of range, a policy that is not a distribution, a value
            outside [-1, 1], a non-finite input or a game index past the list of games.
    """
    meta = data.metadata
    indices, probs, values = data.policy_indices, data.policy_probs, data.values
    if indices.min() < 0 or indices.max() >= meta.policy_size:
        raise ShardError(where, f"policy index outside [0, {meta.policy_size})")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ShardError(where, "policy probabilities must be finite and non-negative")
    sums = np.add.reduceat(probs.astype(np.float64), data.policy_offsets[:-1])
    if np.abs(sums - 1.0).max() > 1e-3:
        raise ShardError(where, "a sample's policy probabilities do not sum to 1")
    if not np.isfinite(values).all() or np.abs(values).max() > 1.0 + 1e-6:
        raise ShardError(where, "value targets must lie in [-1, 1]")
    if not (np.isfinite(data.planes).all() and np.isfinite(data.globals).all()):
        raise ShardError(where, "planes and globals must be finite")
    if data.game_index.max() >= len(meta.game_ids) or data.game_index.min() < -1:
        raise ShardError(where, "a sample points past the list of game ids")


def check_made_for(where: str, found: tuple[GameConfig, int, int], *,
                   config: GameConfig | None, encoder_version: int | None,
                   policy_size: int | None) -> None:
    """Refuse data made for another config, encoder version or policy size than asked.

    Args:
        where: the shard's path, for the message.
        found: the data's ``(config, encoder_version, policy_size)``.
        config, encoder_version, policy_size: what the caller requires (None: anything).

    Raises:
        ShardMismatch: naming the first field that differs.
    """
    for name, want, got in zip(("config", "encoder_version", "policy_size"),
                               (config, encoder_version, policy_size), found, strict=True):
        if want is not None and want != got:
            raise ShardMismatch(where, name, str(want), str(got))
