"""The trainer's settings, and the status it reports.

Checks: a run's steps follow from the samples per candidate and its batch size, its warm-up
is at most a tenth of them and its seed follows its number; a recommended batch size is kept
within the trainer's bounds; bad settings stop the start naming the env variable and flag;
``ringrift trainer status`` lines show the shards, runs, the latest run's job and the seconds
spent on rejected candidates.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ringrift.errors import ConfigurationError
from ringrift.service.flags import load_settings
from ringrift.storage.database import session_scope
from services.trainer import handlers, report
from services.trainer.settings import TrainerSettings
from services.trainer.tables import Run, RunState, Verdict
from tests.utils.trainer_shards import shard_event


def test_run_settings_follow_the_samples_and_the_batch(make_settings):
    settings = make_settings(train_samples=1000, warmup_steps=20, seed=3)
    run = settings.run_settings(batch_size=128, run_number=7)
    assert (run.steps, run.batch_size, run.warmup_steps) == (8, 128, 1)
    assert run.seed == 3 * 1_000_003 + 7
    assert settings.run_settings(batch_size=16, run_number=7).steps == 63
    assert make_settings(train_samples=100_000).run_settings(256, 1).warmup_steps == 20


@pytest.mark.parametrize("recommended, used", [(8, 16), (256, 256), (4096, 512)])
def test_a_recommended_batch_is_kept_within_bounds(make_settings, recommended, used):
    assert make_settings(min_batch_size=16, max_batch_size=512).batch_size_for(recommended) == used


@pytest.mark.parametrize("argv, named", [
    (["--configs", "square8_2p,chess_2p"], "RINGRIFT_TRAINER_CONFIGS (flag --configs)"),
    (["--preset", "huge"], "RINGRIFT_TRAINER_PRESET (flag --preset)"),
    (["--batch-size", "1024"], "min (16) <= default (1024) <= max (512)"),
    (["--start-from", "oldest"], "RINGRIFT_TRAINER_START_FROM (flag --start-from)"),
])
def test_bad_settings_are_named(argv, named):
    with pytest.raises(ConfigurationError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_settings(TrainerSettings, argv)


def test_status_lines_show_runs_jobs_and_rejected_seconds(engine, make_settings):
    settings = make_settings()
    handler = handlers.TrainerHandler(settings, lambda _key: None)
    with session_scope(engine) as session:
        for shard_id in ("s1", "s2", "s3"):
            handler(shard_event("square8_2p", shard_id, 50), session)
    with session_scope(engine) as session:
        first = session.scalars(select(Run)).one()
        first.state, first.model_id, first.train_seconds = RunState.PUBLISHED, "rr-c1", 42.0
        first.verdict, first.start_steps = Verdict.REJECTED, [0, 20]
    with session_scope(engine, read_only=True) as session:
        lines = list(report.status_lines(session))
    assert lines[0].startswith("square8_2p: 3 shard(s), 150 sample(s), 50 since the latest run")
    assert "1 run(s), 1 candidate(s) published, 1 rejected (42 training seconds" in lines[1]
    assert "run 1" in lines[2] and "started at step(s) 0, 20" in lines[2]
    assert "candidate rr-c1, 42 s, rejected" in lines[2]
