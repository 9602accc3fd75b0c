"""The single-machine loop on square8 at a toy budget (slow: real self-play, training, matches).

Checks: two generations complete and print a header and a row each, with shards, game records,
checkpoints and a state file; running again with the same target does nothing new and reprints
the rows; raising the target resumes at the next generation, playing the baseline matches only
every ``baseline_every`` generations and at the last; a generation interrupted after
self-play resumes at training without replaying its games; a run directory of another config
is refused; ``ringrift loop --help`` and bad flags; the gate: a promoted candidate plays the
next generation's self-play (its id in the shard), a refused one does not.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ringrift.cli.main import main
from ringrift.errors import ConfigurationError
from ringrift.loop import LoopSettings, run_loop
from ringrift.loop.generation import artifact_paths, run_generation
from ringrift.loop.state import load_state, save_state

pytestmark = pytest.mark.slow


def toy(tmp_path, **overrides) -> LoopSettings:
    defaults = LoopSettings(generations=2, games_per_generation=2, simulations=4,
                            eval_simulations=2, eval_games=2, train_steps=3, batch_size=16,
                            concurrency=4, heuristic_eval=False, threads=1, device="cpu",
                            out=str(tmp_path / "run"))
    return replace(defaults, **overrides)


def test_loop_runs_resumes_and_continues(tmp_path):
    lines: list[str] = []
    state = run_loop(toy(tmp_path), echo=lines.append)
    rows = [line for line in lines if line.strip().split(" ")[0] in ("1", "2")]
    assert len(rows) == 2 and any("vs random" in line for line in lines)
    assert [row.stage for row in state.rows] == ["done", "done"]
    for generation in (1, 2):
        paths = artifact_paths(tmp_path / "run", generation)
        assert paths["shard"].exists() and paths["games"].exists() and paths["model"].exists()
    saved = json.loads((tmp_path / "run" / "state.json").read_text())
    assert len(saved["rows"]) == 2 and saved["latest_candidate"].endswith("gen-0002.pt")

    again: list[str] = []
    run_loop(toy(tmp_path), echo=again.append)
    assert any("resumed after generation 2" in line for line in again)
    assert [line for line in again if line in rows] == rows

    more = run_loop(toy(tmp_path, generations=4, baseline_every=2), echo=lambda _line: None)
    assert [row.generation for row in more.completed] == [1, 2, 3, 4]
    # Baselines on every 2nd generation and the last; the gate match on every one.
    third, fourth = more.rows[2], more.rows[3]
    assert third.vs_previous is not None and third.promoted is not None
    assert third.vs_random is None and third.policy_vs_random is None
    assert fourth.vs_random is not None and fourth.policy_vs_random is not None


def test_generation_interrupted_after_selfplay_resumes_at_training(tmp_path):
    settings = toy(tmp_path, generations=1)
    state = load_state(settings.out_dir, settings.identity())
    row = state.current(1)

    def stop_at_training(message: str) -> None:
        if "training" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_generation(settings, state, row, log=stop_at_training)
    shard = artifact_paths(settings.out_dir, 1)["shard"]
    written = shard.stat().st_mtime_ns
    resumed = load_state(settings.out_dir, settings.identity())
    assert resumed.rows[0].stage == "train" and resumed.rows[0].samples > 0
    run_generation(settings, resumed, resumed.rows[0])
    assert resumed.rows[0].stage == "done"
    assert shard.stat().st_mtime_ns == written


def test_run_directory_of_another_config_is_refused(tmp_path):
    settings = toy(tmp_path)
    save_state(settings.out_dir, load_state(settings.out_dir, settings.identity()))
    with pytest.raises(ConfigurationError, match="another --out"):
        run_loop(toy(tmp_path, preset="small"), echo=lambda _line: None)


def test_cli_help_and_bad_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["loop", "--help"])
    assert exit_info.value.code == 0
    assert "--games-per-gen" in capsys.readouterr().out
    assert main(["loop", "--generations", "0"]) == 2
    assert "--generations must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(("gate", "promoted"), [(0.0, True), (1.01, False)])
def test_gate_decides_which_model_plays_the_next_generation(tmp_path, gate, promoted):
    from ringrift.training.shards import read_shard

    state = run_loop(toy(tmp_path, gate_min_score=gate), echo=lambda _line: None)
    first, second = state.rows
    assert first.promoted is promoted and second.promoted is promoted
    sources = read_shard(artifact_paths(tmp_path / "run", 2)["shard"]).metadata.source_model_ids
    if promoted:
        assert state.best_model == second.candidate and state.best_model_id == second.candidate_id
        assert sources == (first.candidate_id,)
    else:
        assert state.best_model is None and sources == ()
    # Training continues the candidates' line either way.
    assert state.latest_candidate == second.candidate
