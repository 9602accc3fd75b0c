"""The trainer's handlers as plain functions, on a migrated SQLite database.

Checks: shards are recorded once (a redelivery changes nothing, the same id with other
content is poison) and a run is triggered exactly by the shard that brings the samples since
the latest run to the threshold, with a window of the newest shards chosen by the library's
rule; the window's minimum holds training back; configs not enabled are recorded but never
trained; the parent is the latest candidate, else the current model (never one of another
encoder version), or always the current model with ``start_from=promoted``; bad events are
poison with the reason; a rejected candidate spends its window (later windows leave it out,
training waits for enough fresh rows) and its seconds are counted, a passed one changes
nothing, only the first decision counts, evaluations of other models are ignored; with
``max_unevaluated`` a due run waits for the result that frees the slot (which starts it),
and no run starts while another of the config is unfinished.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel, EvaluationCompleted, GateDecision
from ringrift.events.jobs import JobRequest, JobRow, JobState
from ringrift.storage.database import session_scope
from services.trainer import handlers, trigger
from services.trainer.feedback import rejected_seconds
from services.trainer.tables import Run, RunState, Shard
from tests.utils.trainer_shards import shard_event

SQUARE8 = "square8_2p"


def handle(engine, settings, event, current=None) -> list:
    handler = handlers.TrainerHandler(settings, (current or {}).get)
    with session_scope(engine) as session:
        return handler(event, session)


def feed(engine, settings, shards, config=SQUARE8, current=None) -> list[list]:
    """Handle shards ``(id, samples)`` in order; the outputs of each."""
    return [handle(engine, settings, shard_event(config, shard_id, samples), current)
            for shard_id, samples in shards]


def runs(engine) -> list[Run]:
    with session_scope(engine, read_only=True) as session:
        return list(session.scalars(select(Run).order_by(Run.config_key, Run.number)))


def publish(engine, run_id: str, model_id: str, seconds: float = 12.5) -> None:
    """What the job's end does to a run (its candidate published)."""
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        run.state, run.model_id, run.train_seconds = RunState.PUBLISHED, model_id, seconds
        run.weights_uri, run.weights_sha256 = f"file:///w/{model_id}", "ab" * 32


def evaluation(model_id: str, passed: bool, config=SQUARE8, evaluation_id="ev-1",
               envelope_config=None, gate=True):
    payload = EvaluationCompleted(evaluation_id=evaluation_id, model_id=model_id,
                                  config_key=config)
    if gate:
        payload.gate.CopyFrom(GateDecision(passed=passed, verdict="pass" if passed else "fail"))
    return new_event(payload, config_key=envelope_config or config, producer="evaluator")


def test_a_run_is_triggered_by_the_shard_that_reaches_the_threshold(engine, make_settings):
    settings = make_settings()
    outputs = feed(engine, settings, [("s1", 40), ("s2", 40), ("s3", 40)])
    assert outputs[:2] == [[], []]
    assert outputs[2] == [JobRequest(handlers.TRAIN_JOB)]
    [run] = runs(engine)
    assert (run.number, run.state, run.samples_total) == (1, RunState.PENDING, 120)
    assert run.shard_ids == ["s3", "s2", "s1"] and run.window_rows == 120
    assert (run.trigger_shard_id, run.parent_model_id) == ("s3", None)
    # A redelivered shard is a no-op; the next run waits for 100 new samples.
    assert feed(engine, settings, [("s2", 40), ("s4", 60)]) == [[], []]
    assert feed(engine, settings, [("s5", 40)]) == [[JobRequest(handlers.TRAIN_JOB)]]
    second = runs(engine)[1]
    assert (second.number, second.samples_total, second.trigger_shard_id) == (2, 220, "s5")
    assert second.shard_ids[:2] == ["s5", "s4"]
    with session_scope(engine, read_only=True) as session:
        assert trigger.pending_samples(session, SQUARE8) == 0
        assert session.scalar(select(Shard.num_samples).where(Shard.shard_id == "s2")) == 40


def test_the_windows_minimum_holds_training_back(engine, make_settings):
    settings = make_settings(samples_per_candidate=30, window_min_rows=100)
    outputs = feed(engine, settings, [("a", 40), ("b", 40), ("c", 40)])
    assert outputs == [[], [], [JobRequest(handlers.TRAIN_JOB)]]
    assert runs(engine)[0].shard_ids == ["c", "b", "a"]


def test_uniform_play_counts_towards_the_first_window_only(engine, make_settings):
    settings = make_settings(samples_per_candidate=100, window_min_rows=100,
                             window_expand_per_row=1.0, window_taper_exponent=1.0)
    for shard_id in ("u1", "u2", "u3"):
        handle(engine, settings, shard_event(SQUARE8, shard_id, 60, source_model_ids=()))
    [run] = runs(engine)  # triggered at 120 samples: uniform rows fill the minimum window
    assert run.usable_rows == 100 and run.desired_rows == 100 and run.shard_ids == ["u2", "u1"]


def test_configs_not_enabled_are_recorded_but_not_trained(engine, make_settings):
    settings = make_settings(configs=["hex8_2p"])
    assert feed(engine, settings, [("x1", 80), ("x2", 80)]) == [[], []]
    assert runs(engine) == []
    with session_scope(engine, read_only=True) as session:
        assert trigger.samples_received(session, SQUARE8) == 160


def current_model(model_id="rr-promoted", encoder_version=None) -> CurrentModel:
    from ringrift.encoding import ENCODER_VERSION

    return CurrentModel(config_key=SQUARE8, model_id=model_id, revision=1,
                        encoder_version=encoder_version or ENCODER_VERSION,
                        weights=ArtifactRef(uri="file:///w/promoted", sha256="cd" * 32))


def test_parent_is_the_latest_candidate_else_the_current_model(engine, make_settings):
    settings = make_settings()
    current = {SQUARE8: current_model()}
    feed(engine, settings, [("s1", 100)], current=current)
    assert runs(engine)[0].parent_model_id == "rr-promoted"
    publish(engine, runs(engine)[0].run_id, "rr-first")
    feed(engine, settings, [("s2", 100)], current=current)
    assert runs(engine)[1].parent_model_id == "rr-first"
    assert runs(engine)[1].parent_uri == "file:///w/rr-first"
    promoted = make_settings(start_from="promoted")
    feed(engine, promoted, [("s3", 100)], current=current)
    assert runs(engine)[2].parent_model_id == "rr-promoted"
    feed(engine, promoted, [("s4", 100)])
    assert runs(engine)[3].parent_model_id is None  # nothing promoted: fresh weights
    feed(engine, promoted, [("s5", 100)], current={SQUARE8: current_model(encoder_version=999)})
    assert runs(engine)[4].parent_model_id is None


@pytest.mark.parametrize("event, reason", [
    (shard_event("chess_2p", "s", 10), "not one of"),
    (shard_event(SQUARE8, "s", 10, envelope_config="hex8_2p"), "differs from the payload"),
    (shard_event(SQUARE8, "", 10), "has no shard_id"),
    (shard_event(SQUARE8, "s", 10, sha256="not-a-hash"), "no artifact reference"),
    (shard_event(SQUARE8, "s", 10, encoder_version=999), "encoder version 999"),
])
def test_bad_shard_events_are_poison_and_change_nothing(engine, make_settings, event, reason):
    with pytest.raises(PoisonMessage, match=reason):
        handle(engine, make_settings(), event)
    with session_scope(engine, read_only=True) as session:
        assert session.scalars(select(Shard)).all() == []


def test_a_shard_id_with_other_content_is_poison(engine, make_settings):
    settings = make_settings()
    handle(engine, settings, shard_event(SQUARE8, "s1", 10, sha256="aa" * 32))
    with pytest.raises(PoisonMessage, match="names one content only"):
        handle(engine, settings, shard_event(SQUARE8, "s1", 10, sha256="bb" * 32))


def test_a_rejected_candidate_spends_its_window(engine, make_settings):
    settings = make_settings(samples_per_candidate=50)
    feed(engine, settings, [("s1", 60), ("s2", 60)])
    first = runs(engine)[0]
    publish(engine, first.run_id, "rr-c1", seconds=30.0)
    assert handle(engine, settings, evaluation("rr-c1", passed=False)) == []
    with session_scope(engine, read_only=True) as session:
        spent = dict(session.execute(select(Shard.shard_id, Shard.spent_by)).all())
        assert spent == {"s1": first.run_id, "s2": first.run_id}
        assert rejected_seconds(session, SQUARE8) == 30.0
    assert runs(engine)[0].verdict == "rejected"
    # Enough new samples, but 60 fresh rows are below the window's 100-row minimum.
    assert feed(engine, settings, [("s3", 60)]) == [[]]
    assert feed(engine, settings, [("s4", 50)]) == [[JobRequest(handlers.TRAIN_JOB)]]
    assert runs(engine)[1].shard_ids == ["s4", "s3"]


def test_only_the_first_decision_counts_and_others_models_are_ignored(engine, make_settings):
    settings = make_settings()
    feed(engine, settings, [("s1", 100)])
    publish(engine, runs(engine)[0].run_id, "rr-c1")
    handle(engine, settings, evaluation("rr-c1", passed=True))
    handle(engine, settings, evaluation("rr-c1", passed=False, evaluation_id="ev-2"))
    handle(engine, settings, evaluation("rr-someone-else", passed=False))
    [run] = runs(engine)
    assert (run.verdict, run.evaluation_id) == ("passed", "ev-1")
    with session_scope(engine, read_only=True) as session:
        assert session.scalars(select(Shard.spent_by)).all() == [None]
        assert rejected_seconds(session, SQUARE8) == 0.0


@pytest.mark.parametrize("event, reason", [
    (evaluation("m", False, config="chess_2p"), "not one of"),
    (evaluation("m", False, envelope_config="hex8_2p"), "differs from the payload"),
    (evaluation("", False), "no model_id"),
    (evaluation("m", False, gate=False), "no gate decision"),
])
def test_bad_evaluations_are_poison(engine, make_settings, event, reason):
    with pytest.raises(PoisonMessage, match=reason):
        handle(engine, make_settings(), event)


def test_events_of_other_types_are_poison(engine, make_settings):
    event = new_event(CurrentModel(config_key=SQUARE8), config_key=SQUARE8, producer="x")
    with pytest.raises(PoisonMessage, match="does not handle"):
        handle(engine, make_settings(), event)


def test_the_trigger_time_is_the_shards_production_time(engine, make_settings):
    event = shard_event(SQUARE8, "s1", 100)
    handle(engine, make_settings(), event)
    [run] = runs(engine)
    assert run.trigger_published_at.replace(tzinfo=UTC) == event.produced_at
    assert run.triggered_at.replace(tzinfo=UTC) <= datetime.now(UTC)


def job_row(engine, run_id: str, state: str) -> None:
    """The backbone's job of a run, in ``state`` (what the dispatcher records)."""
    with session_scope(engine) as session:
        session.add(JobRow(job_id=run_id, consumer_group="trainer", kind=handlers.TRAIN_JOB,
                           params={}, topic="shard-written", partition=0, offset=0,
                           state=state, created_at=datetime.now(UTC)))


def test_max_unevaluated_holds_a_run_until_a_result_frees_the_slot(engine, make_settings):
    settings = make_settings(max_unevaluated=1)
    feed(engine, settings, [("s1", 100)])
    publish(engine, runs(engine)[0].run_id, "rr-c1")
    # Due by its samples, but rr-c1 awaits its evaluation: held back, shards still recorded.
    assert feed(engine, settings, [("s2", 60), ("s3", 60)]) == [[], []]
    assert len(runs(engine)) == 1
    result = evaluation("rr-c1", passed=False)
    assert handle(engine, settings, result) == [JobRequest(handlers.TRAIN_JOB)]
    second = runs(engine)[1]
    # On every shard received meanwhile but the rejected candidate's (spent).
    assert second.shard_ids == ["s3", "s2"]
    assert (second.trigger_shard_id, second.parent_model_id) == ("s3", "rr-c1")
    assert second.trigger_published_at.replace(tzinfo=UTC) == result.produced_at
    # No second run while this one trains, whatever arrives; a failed job blocks nothing.
    job_row(engine, second.run_id, JobState.RUNNING)
    assert feed(engine, settings, [("s4", 200)]) == [[]]
    with session_scope(engine) as session:
        session.get(JobRow, second.run_id).state = JobState.FAILED
    assert feed(engine, settings, [("s5", 10)]) == [[JobRequest(handlers.TRAIN_JOB)]]
