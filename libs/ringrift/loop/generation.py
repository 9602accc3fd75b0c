"""One generation of the loop: self-play -> shard -> train -> evaluate -> gate.

Each stage ends by saving the loop state, so a killed run resumes at the stage it was in
(:mod:`ringrift.loop.state`). Self-play uses the current *best* model (a uniform evaluator
before any exists); training continues the *latest candidate*'s line over a window of recent
shards, KataGo-style, whether or not that candidate was promoted; the gate decides only which
model self-play uses next: a candidate is promoted when its score by rank against the current
self-play model is at least ``gate_min_score``. Models are loaded, matches played and the gate
computed by :mod:`ringrift.evaluation`, the package the evaluator service uses.

Why a point estimate and not a confidence bound: a Wilson lower bound above 0.5 over 40 games
needs 27 wins, so a candidate truly 70 Elo stronger got through 21% of the time and self-play
sat on one old model (or on the uniform evaluator, whose near-uniform targets teach nothing)
for many generations. Scoring at least half promotes such a candidate 93% of the time; one
35 Elo weaker still slips through about a third of the time, which self-play tolerates because
training continues the candidates' line anyway. The pipeline's evaluator, whose decision serves
users, gates with the sequential test (:mod:`ringrift.evaluation.gate`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ringrift.encoding import Encoder
from ringrift.evaluation import (
    HEURISTIC_ID,
    RANDOM_ID,
    MatchOptions,
    MatchPlan,
    MatchSummary,
    baseline_player,
    baselines_due,
    load_for_play,
    play_match,
    point_estimate_decision,
    policy_player,
    search_player,
)
from ringrift.loop.settings import LoopSettings
from ringrift.loop.state import GenerationRow, LoopState, save_state
from ringrift.players.base import Player
from ringrift.search import GameRules, GumbelConfig, engine_rules
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.selfplay.samples import write_game_records, write_games_shard


def artifact_paths(run_dir: Path, generation: int) -> dict[str, Path]:
    name = f"gen-{generation:04d}"
    return {"shard": run_dir / "shards" / f"{name}.npz",
            "games": run_dir / "games" / f"{name}.jsonl",
            "model": run_dir / "models" / f"{name}.pt"}


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
        evaluator = load_for_play(state.best_model, config=config,
                                  device=settings.device).evaluator
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
        _evaluate(settings, state, row, rules, new_game, seed + 7)
        if row.promoted:
            state.best_model = row.candidate
            state.best_model_id = row.candidate_id
        finish_stage("done", began)


def _evaluate(settings: LoopSettings, state: LoopState, row: GenerationRow, rules: GameRules,
              new_game: Callable[[], Any], seed: int) -> None:
    """The gate match against the self-play model, and the baselines when they are due.

    The candidate plays under search as in self-play: against the current self-play model
    (the gate), the random and heuristic players; its network alone plays random. Each match
    is ``eval_games`` games in whole rounds, the candidate in every seat equally often.
    """
    config = settings.config
    candidate = load_for_play(row.candidate, config=config, device=settings.device)
    previous = load_for_play(state.best_model, config=config, device=settings.device)
    simulations = settings.eval_simulations
    me = search_player(candidate, rules, simulations)

    def match(opponent: Player, offset: int, label: str, player: Player = me) -> MatchSummary:
        plan = MatchPlan.from_games(config.num_players, seed + offset,
                                    batch_games=settings.eval_games,
                                    max_games=settings.eval_games)
        options = MatchOptions(settings.concurrency, settings.max_moves, label)
        return play_match(plan, player, opponent, new_game, rules, options=options).summary()

    gate = point_estimate_decision(
        match(search_player(previous, rules, simulations), 1, "eval vs previous"),
        settings.gate_min_score)
    row.vs_previous, row.promoted = gate.summary.triple(), gate.passed
    if not baselines_due(row.generation, settings.baseline_every,
                         last=row.generation == settings.generations):
        return
    random = baseline_player(RANDOM_ID, rules)
    row.vs_random = match(random, 2, "eval vs random").triple()
    if settings.heuristic_eval:
        row.vs_heuristic = match(baseline_player(HEURISTIC_ID, rules), 3, "eval vs heuristic").triple()
    row.policy_vs_random = match(random, 4, "eval policy vs random",
                                 player=policy_player(candidate)).triple()


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
