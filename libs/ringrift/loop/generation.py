"""One generation of the loop: self-play -> shard -> train -> evaluate -> gate.

Each stage ends by saving the loop state, so a killed run resumes at the stage it was in
(:mod:`ringrift.loop.state`). Self-play uses the current *best* model (a uniform evaluator
before any exists); training continues the *latest candidate*'s line over a window of recent
shards, KataGo-style, whether or not that candidate was promoted; the gate decides only which
model self-play uses next: a candidate is promoted when its score against the current self-play
model is at least ``gate_min_score``.

Why a point estimate and not a confidence bound: a Wilson lower bound above 0.5 over 40 games
needs 27 wins, so a candidate truly 70 Elo stronger got through 21% of the time and self-play
sat on one old model (or on the uniform evaluator, whose near-uniform targets teach nothing)
for many generations. Scoring at least half promotes such a candidate 93% of the time; one
35 Elo weaker still slips through about a third of the time, which self-play tolerates because
training continues the candidates' line anyway. The pipeline's promoter, whose decision serves
users, is the place for a sequential test with controlled error rates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ringrift.encoding import ENCODER_VERSION, Encoder
from ringrift.loop.evaluation import evaluate_candidate
from ringrift.loop.settings import LoopSettings
from ringrift.loop.state import GenerationRow, LoopState, save_state
from ringrift.players import Record
from ringrift.search import Evaluator, GumbelConfig, UniformEvaluator, engine_rules
from ringrift.search.network import NetworkEvaluator
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.selfplay.samples import write_game_records, write_games_shard


def artifact_paths(run_dir: Path, generation: int) -> dict[str, Path]:
    name = f"gen-{generation:04d}"
    return {"shard": run_dir / "shards" / f"{name}.npz",
            "games": run_dir / "games" / f"{name}.jsonl",
            "model": run_dir / "models" / f"{name}.pt"}


def load_evaluator(path: str | None, settings: LoopSettings) -> Evaluator:
    """A network evaluator for checkpoint ``path``, or uniform when there is no model yet."""
    if path is None:
        return UniformEvaluator()
    from ringrift.models import load_checkpoint

    loaded = load_checkpoint(path, config=settings.config, encoder_version=ENCODER_VERSION,
                             device=settings.device or "cpu")
    return NetworkEvaluator(loaded, Encoder.for_config(settings.config), device=settings.device)


def run_generation(settings: LoopSettings, state: LoopState, row: GenerationRow,
                   log: Callable[[str], None] = lambda _message: None) -> None:
    """Run the remaining stages of ``row``'s generation, saving state after each."""
    from ringrift.game import initial_state

    config = settings.config
    rules = engine_rules()
    paths = artifact_paths(settings.out_dir, row.generation)
    seed = settings.seed * 100_003 + row.generation * 101

    def new_game() -> Any:
        return initial_state(config, pie_rule=False)

    def finish_stage(next_stage: str, began: float) -> None:
        row.stage = next_stage
        row.seconds += time.perf_counter() - began
        save_state(settings.out_dir, state)

    if row.stage == "selfplay":
        began = time.perf_counter()
        log(f"generation {row.generation}: self-play, {settings.games_per_generation} games")
        evaluator = load_evaluator(state.best_model, settings)
        batch = play_games(new_game, rules, evaluator, settings.games_per_generation,
                           SelfPlaySettings(GumbelConfig(simulations=settings.simulations),
                                            max_moves=settings.max_moves,
                                            concurrency=settings.concurrency),
                           seed=seed, game_id_prefix=f"{config.key}-r{settings.seed}-g{row.generation}")
        sources = [state.best_model_id] if state.best_model_id else []
        row.samples = write_games_shard(paths["shard"], batch.games, Encoder.for_config(config),
                                        sources)
        write_game_records(paths["games"], batch.games, state.best_model_id)
        row.games = len(batch.games)
        row.truncated = sum(game.truncated for game in batch.games)
        row.selfplay_seconds = batch.seconds
        row.positions_per_second = batch.positions / max(batch.seconds, 1e-9)
        finish_stage("train", began)

    if row.stage == "train":
        began = time.perf_counter()
        window = _window(state, row.generation, settings)
        if not window:
            log(f"generation {row.generation}: no samples yet (all games truncated); no training")
            finish_stage("done", began)
            return
        log(f"generation {row.generation}: training on {len(window)} shard(s)")
        result = _train(window, paths["model"], state.latest_candidate, settings, seed)
        tail = max(1, len(result.policy_losses) // 10)
        row.policy_loss = float(np.mean(result.policy_losses[-tail:]))
        row.value_loss = float(np.mean(result.value_losses[-tail:]))
        row.train_samples_per_second = result.samples_per_second
        row.candidate = str(paths["model"])
        row.candidate_id = result.metadata.model_id
        state.latest_candidate = row.candidate
        finish_stage("evaluate", began)

    if row.stage == "evaluate":
        began = time.perf_counter()
        log(f"generation {row.generation}: evaluating {row.candidate_id}")
        summary = evaluate_candidate(
            load_evaluator(row.candidate, settings), load_evaluator(state.best_model, settings),
            rules=rules, new_game=new_game, num_players=config.num_players,
            games=settings.eval_games, simulations=settings.eval_simulations, seed=seed + 7,
            baselines=_baselines_due(row.generation, settings),
            heuristic=settings.heuristic_eval, concurrency=settings.concurrency,
            max_moves=settings.max_moves)
        row.vs_previous = _triple(summary.vs_previous)
        row.vs_random = _triple(summary.vs_random)
        row.vs_heuristic = _triple(summary.vs_heuristic)
        row.policy_vs_random = _triple(summary.policy_vs_random)
        row.promoted = summary.vs_previous.score >= settings.gate_min_score
        if row.promoted:
            state.best_model = row.candidate
            state.best_model_id = row.candidate_id
        finish_stage("done", began)


def _baselines_due(generation: int, settings: LoopSettings) -> bool:
    """Baseline matches run on generation 1, every ``baseline_every`` and at the last."""
    return (generation == 1 or generation % settings.baseline_every == 0
            or generation == settings.generations)


def _triple(record: Record | None) -> list[float] | None:
    if record is None:
        return None
    low, high = record.interval
    return [record.score, low, high]


def _window(state: LoopState, generation: int, settings: LoopSettings) -> list[str]:
    """Shards of the last ``window`` generations up to ``generation`` that hold samples."""
    first = generation - settings.window + 1
    return [str(artifact_paths(settings.out_dir, row.generation)["shard"])
            for row in sorted(state.rows, key=lambda r: r.generation)
            if first <= row.generation <= generation and row.samples > 0]


def _train(window: list[str], output: Path, init: str | None, settings: LoopSettings,
           seed: int) -> Any:
    from ringrift.training.trainer import TrainSettings, train

    train_settings = TrainSettings(steps=settings.train_steps, batch_size=settings.batch_size,
                                   learning_rate=settings.learning_rate, seed=seed,
                                   checkpoint_every=100)
    return train(window, output, config=settings.config, settings=train_settings, init=init,
                 preset=settings.preset, device=settings.device)
