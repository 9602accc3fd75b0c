"""Model loading for play: a checkpoint, an artifact or "no model yet" as an evaluator or player.

Every place that plays a model (the loop's self-play and evaluation, ``ringrift match``, the
evaluator service) goes through :func:`load_for_play`, which reads checkpoints with the one
loader (:func:`ringrift.models.load_checkpoint`, checked against the config and the current
encoder) and gives the uniform evaluator when there is no model yet: before a config's first
promotion, self-play and the gate's opponent are Gumbel search over uniform priors and zero
values.

Players carry their id as their ``name``, and a match records those ids per seat: a search
player is its model's id (``uniform`` for the uniform evaluator), the network alone is the
model id with ``:policy``, and the two baselines are ``random`` and ``heuristic``. Ratings are
fitted over these ids.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ringrift.configs import GameConfig
from ringrift.errors import ConfigurationError
from ringrift.players import PolicyPlayer, RandomPlayer, SearchPlayer
from ringrift.players.base import Player
from ringrift.players.heuristic import HeuristicPlayer
from ringrift.search import Evaluator, GameRules, GumbelConfig, UniformEvaluator
from ringrift.storage.artifacts import ArtifactRef, ArtifactStore, store_for_uri

if TYPE_CHECKING:
    from ringrift.models import CheckpointMetadata

RANDOM_ID = "random"
HEURISTIC_ID = "heuristic"
UNIFORM_ID = "uniform"
"""The id of search over the uniform evaluator (the model of a config before any promotion)."""

ModelSource = str | os.PathLike[str] | ArtifactRef | None
"""A checkpoint path, an artifact reference (as events carry it), or None for no model yet."""


@dataclass(frozen=True)
class PlayModel:
    """A model ready to play: its evaluator, its id and (for a checkpoint) its metadata."""

    evaluator: Evaluator
    model_id: str
    metadata: CheckpointMetadata | None = None


def load_for_play(source: ModelSource, *, config: GameConfig, device: str | None = None,
                  store: ArtifactStore | None = None) -> PlayModel:
    """The evaluator of a checkpoint for ``config``, or the uniform one when ``source`` is None.

    Args:
        source: a checkpoint path, an artifact reference, or None (no model yet).
        config: the board and player count that will be played; the checkpoint must match.
        device: ``cpu`` or ``cuda``; None picks CUDA when present.
        store: the store to read an artifact reference from; None reads it from where its
            URI points (``store_for_uri``: a file, or an object in S3).

    Returns:
        A :class:`PlayModel`.

    Raises:
        ringrift.storage.errors.ArtifactError: the artifact is missing or corrupt (a
            PoisonMessage), its store unreachable (a RetryableError), or its URI unknown.
        ringrift.models.CheckpointError: the checkpoint is missing, corrupt, or made for
            another config, encoder or architecture (the message says which and what to do).
    """
    if source is None:
        return PlayModel(UniformEvaluator(), UNIFORM_ID)
    from ringrift.encoding import ENCODER_VERSION, Encoder
    from ringrift.models import load_checkpoint
    from ringrift.search.network import NetworkEvaluator

    if isinstance(source, ArtifactRef):
        reader = store if store is not None else store_for_uri(source.uri)
        path: Path = reader.local_path(source.uri, source.sha256)
    else:
        path = Path(source)
    loaded = load_checkpoint(path, config=config, encoder_version=ENCODER_VERSION,
                             device=device or "cpu")
    evaluator = NetworkEvaluator(loaded, Encoder.for_config(config), device=device)
    return PlayModel(evaluator, loaded.metadata.model_id, loaded.metadata)


def search_player(model: PlayModel, rules: GameRules, simulations: int) -> SearchPlayer:
    """The model inside Gumbel search, as it plays in self-play; named by its model id."""
    return SearchPlayer(model.evaluator, rules, GumbelConfig(simulations=simulations),
                        name=model.model_id)


def policy_player(model: PlayModel) -> PolicyPlayer:
    """The model's network alone (its most likely move), named ``<model id>:policy``."""
    return PolicyPlayer(model.evaluator, name=f"{model.model_id}:policy")


def baseline_player(player_id: str, rules: GameRules) -> Player:
    """The random or the heuristic player by id.

    Raises:
        ConfigurationError: another id.
    """
    if player_id == RANDOM_ID:
        return RandomPlayer(name=RANDOM_ID)
    if player_id == HEURISTIC_ID:
        return HeuristicPlayer(rules, name=HEURISTIC_ID)
    raise ConfigurationError(f"unknown baseline {player_id!r}; expected {RANDOM_ID!r} or "
                             f"{HEURISTIC_ID!r}")


def player_for(spec: str, *, config: GameConfig, rules: GameRules, simulations: int,
               device: str | None = None) -> Player:
    """A player from a command-line spec: ``random``, ``heuristic``, ``uniform`` or a checkpoint.

    Raises:
        ringrift.models.CheckpointError: the checkpoint cannot be loaded for ``config``.
    """
    if spec in (RANDOM_ID, HEURISTIC_ID):
        return baseline_player(spec, rules)
    source = None if spec == UNIFORM_ID else spec
    return search_player(load_for_play(source, config=config, device=device), rules, simulations)
