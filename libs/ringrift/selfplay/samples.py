"""Finished self-play games into training samples, shards and game records.

A sample is one searched position: the encoder's planes and globals (from the mover's point of
view), the search's improved policy as a sparse target over the legal moves' policy indices,
and per-seat values from the game's final ranking rotated to the mover's point of view — the
order the value head predicts (``ringrift.training.targets``). Truncated games have no true
outcome, so they give no samples rather than a made-up draw. The encoder, targets and shard
writer are the training library's own, so self-play cannot drift from what the trainer reads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.selfplay.play import SelfPlayGame
from ringrift.training.shards import Sample, ShardMetadata, write_shard
from ringrift.training.targets import ranking_to_values, values_for_mover


def game_samples(game: SelfPlayGame, encoder: Encoder) -> list[Sample]:
    """The training samples of one game (none if it was truncated or had no decisions)."""
    if game.truncated or not game.decisions:
        return []
    states = [decision.state for decision in game.decisions]
    planes, globals_ = encoder.encode_batch(states)
    outcome = ranking_to_values(game.ranking)
    samples = []
    for row, decision in enumerate(game.decisions):
        indices = encoder.legal_indices(decision.state, decision.moves)
        samples.append(Sample(
            planes=planes[row], globals=globals_[row], policy_indices=indices,
            policy_probs=decision.policy.astype(np.float32),
            values=values_for_mover(outcome, decision.state.current_player).astype(np.float32),
            game_id=game.game_id))
    return samples


def write_games_shard(path: str | os.PathLike[str], games: Sequence[SelfPlayGame],
                      encoder: Encoder, source_model_ids: Sequence[str] = ()) -> int:
    """Write the samples of ``games`` as one shard; returns the number of samples (0: no file).

    Args:
        path: the ``.npz`` to write (atomically).
        games: finished self-play games of ``encoder``'s config.
        encoder: the current encoder of the config.
        source_model_ids: the models that played the games (empty for uniform play).
    """
    samples = [sample for game in games for sample in game_samples(game, encoder)]
    if not samples:
        return 0
    write_shard(path, samples, shard_metadata(
        encoder, source_model_ids,
        [game.game_id for game in games if game.decisions and not game.truncated]))
    return len(samples)


def shard_metadata(encoder: Encoder, source_model_ids: Sequence[str],
                   game_ids: Sequence[str]) -> ShardMetadata:
    """The metadata of a shard of ``encoder``'s samples from the games ``game_ids``.

    Args:
        encoder: the encoder the samples were made with (config, version, policy size).
        source_model_ids: the models that played the games (empty for uniform play).
        game_ids: the games whose samples the shard holds, in order.
    """
    config = encoder.config
    return ShardMetadata(
        board_type=config.board_type, num_players=config.num_players,
        encoder_version=ENCODER_VERSION, policy_size=encoder.policy_size,
        source_model_ids=tuple(source_model_ids), game_ids=tuple(game_ids))


def write_game_records(path: str | os.PathLike[str], games: Sequence[SelfPlayGame],
                       model_id: str | None = None) -> int:
    """Write ``games`` as the engine's JSONL game records (replayable); returns the count.

    Args:
        path: the ``.jsonl`` file to write.
        games: finished games.
        model_id: the model that played every seat (None: the uniform evaluator, written
            as ``"uniform"``).
    """
    from ringrift.game.record import write_jsonl
    from ringrift.selfplay.record_codec import game_record

    records = [game_record(game, [model_id or "uniform"] * game.final_state.num_players)
               for game in games]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return write_jsonl(path, records)
