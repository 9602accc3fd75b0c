"""The status view's model, fed the events of a recorded run (no broker), and its figures.

Checks: games, shards, candidates, the evaluation in progress, the gate's statistics, the
ratings, the current model (an older revision read late is ignored), promotions and
rejections per config; the event log holds promoted/rejected/deferred lines with the id
to trace; dead letters are counted per original topic; a cluster deferral is logged
once when it starts and once when it clears; the report at stop names the current model's
file and the ``ringrift match`` commands that measure it (fetching it first from S3); metrics are picked out of a scrape by name
and label; ``/readyz`` answers name the failing checks; the view renders it all.
"""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from rich.console import Console

from ringrift.events.envelope import new_event
from ringrift.events.gen.common.v1 import common_pb2
from ringrift.events.gen.model.v1 import model_pb2
from ringrift.events.gen.ops.v1 import ops_pb2
from ringrift.pipeline.probe import Metrics, _failing_checks
from ringrift.pipeline.report import measure_lines
from ringrift.pipeline.state import PipelineState
from ringrift.pipeline.tail import DeadLetterSeen
from ringrift.pipeline.view import gate_text, log_line
from tests.unit.pipeline.chain import CONFIG, MODEL, chain, stamped

ORDER = ("games", "shards", "candidates", "started", "completed", "lifecycle", "current")


def fed_state(until: str = "current") -> PipelineState:
    state = PipelineState()
    stages = chain()
    for stage in ORDER[:ORDER.index(until) + 1]:
        for event in stages[stage]:
            state.apply(event)
    return state


def test_counts_and_latest_per_stage() -> None:
    during = fed_state("started").config(CONFIG)
    assert (during.games, during.shards, during.shard_samples, during.candidates) == \
        (7, 2, 200, 1)
    assert during.evaluating == {"ev-1": (MODEL, "uniform", 8)}
    assert "evaluating rr-candidate-1 vs uniform" in gate_text(during.latest_gate,
                                                               during.evaluating)
    after = fed_state().config(CONFIG)
    assert after.evaluating == {}
    assert after.latest_gate is not None and after.latest_gate.verdict == "pass"
    assert gate_text(after.latest_gate, {}).startswith("pass LLR +3.10 [-2.2, +2.9] 8 g")
    assert after.ratings[MODEL] == (240.0, 180.0, 300.0)
    assert (after.current_model, after.revision, after.promotions) == (MODEL, 1, 1)
    assert after.last_game_models == (MODEL, MODEL)


def test_an_older_current_model_read_late_is_ignored() -> None:
    state = fed_state()
    old = new_event(model_pb2.CurrentModel(config_key=CONFIG, model_id="rr-old", revision=0),
                    config_key=CONFIG, producer="promoter")
    state.apply(old)
    assert state.config(CONFIG).current_model == MODEL


def test_the_event_log_names_what_to_trace() -> None:
    state = fed_state()
    rejected = stamped(new_event(model_pb2.ModelLifecycleChanged(
        transition=model_pb2.ModelLifecycleChanged.REJECTED, model_id="rr-2",
        config_key=CONFIG, reason="gate: failed"), config_key=CONFIG, producer="promoter"), 30)
    state.apply(rejected)
    kinds = [entry.kind for entry in state.log]
    assert kinds == ["shard", "shard", "candidate", "evaluating", "evaluated", "promoted",
                     "rejected"]
    promoted = state.log[5]
    assert promoted.trace_id == MODEL
    assert log_line(promoted).endswith(f"[trace: ringrift events trace {MODEL}]")
    assert "promoted rr-candidate-1 over uniform: gate: passed" in log_line(promoted)
    assert state.config(CONFIG).rejections == 1


def test_dead_letters_and_deferrals() -> None:
    state = PipelineState()
    seen = []
    state.listeners.append(seen.append)
    state.apply_dead_letter(DeadLetterSeen("ns.t.dlq", 3, 0, {
        "dlq.original.topic": "ns.t", "dlq.error.class": "RecordError",
        "dlq.error.message": "bad magic", "dlq.service": "exporter", "dlq.event.id": "e-1"}))
    assert state.dead_letters == {"ns.t": 1}
    assert "RecordError: bad magic" in seen[0].text and seen[0].trace_id == "e-1"
    for defer in (["training", "selfplay"], ["training", "selfplay"], []):
        status = ops_pb2.ClusterStatus(defer=defer, overall=ops_pb2.PRESSURE_CRITICAL)
        state.apply(new_event(status, config_key="all", producer="cluster-monitor"))
    assert [entry.kind for entry in seen[1:]] == ["deferred", "resumed"]
    assert seen[1].text.startswith("deferred selfplay, training")


def test_metrics_are_picked_by_name_and_label() -> None:
    registry = CollectorRegistry()
    rate = Gauge("ringrift_selfplay_positions_per_second", "", ["config"], registry=registry)
    rate.labels("square8_2p").set(210.5)
    lag = Gauge("ringrift_events_consumer_lag_records", "", ["group", "topic", "partition"],
                registry=registry)
    lag.labels("exporter", "t", "0").set(3)
    lag.labels("exporter", "t", "1").set(4)
    Counter("ringrift_x", "", registry=registry).inc(2)
    metrics = Metrics.parse(generate_latest(registry).decode())
    assert metrics.by_label("ringrift_selfplay_positions_per_second", "config") == {
        "square8_2p": 210.5}
    assert metrics.by_label("ringrift_events_consumer_lag_records", "group") == {"exporter": 7}
    assert metrics.total("ringrift_x_total") == 2
    assert metrics.total("ringrift_missing") is None


def test_failing_readiness_checks_are_named() -> None:
    answer = httpx.Response(503, json={"status": "failing", "checks": {
        "database": "ok", "table ringrift.model.current.v1": "reading the backlog"}})
    assert _failing_checks(answer) == ("table ringrift.model.current.v1: reading the backlog",)
    assert _failing_checks(httpx.Response(200, json={"status": "ok"})) == ()


def test_the_view_renders_the_state() -> None:
    from pathlib import Path

    from ringrift.pipeline.monitor import Monitor
    from ringrift.pipeline.settings import UpSettings
    from ringrift.pipeline.view import render

    monitor = Monitor(UpSettings(var_dir=Path("/tmp/unused")), lambda: [],
                      bootstrap_servers="127.0.0.1:1", token="")
    monitor.state = fed_state()
    console = Console(width=200, record=True)
    console.print(render(monitor, "http://127.0.0.1:8105"))
    screen = console.export_text()
    assert "square8_2p" in screen and "rr-candidate-1" in screen
    assert "+240 [+180, +300]" in screen  # the current model's rating
    assert "promoted rr-candidate-1 over uniform" in screen


def test_the_report_at_stop_says_how_to_measure_the_current_model() -> None:
    state = fed_state()
    assert measure_lines(state) == []  # the recorded current model names no weights
    sha = "ab" * 32

    def current(uri: str, revision: int) -> None:
        state.apply(new_event(model_pb2.CurrentModel(
            config_key=CONFIG, model_id=f"rr-{revision}", revision=revision,
            weights=common_pb2.ArtifactRef(uri=uri, sha256=sha)),
            config_key=CONFIG, producer="promoter"))

    current(f"file:///srv/var/artifacts/sha256/ab/{sha}", 2)
    assert measure_lines(state) == [
        f"{CONFIG}: current model rr-2 (revision 2); measure it with",
        f"  ringrift match /srv/var/artifacts/sha256/ab/{sha} --opponent random --games 200",
        f"  ringrift match /srv/var/artifacts/sha256/ab/{sha} --opponent heuristic --games 200"]
    current(f"s3://bucket/run/sha256/ab/{sha}", 3)
    assert measure_lines(state)[2] == (
        f"  ringrift artifacts get s3://bucket/run/sha256/ab/{sha} -o {CONFIG}-current.pt && "
        f"ringrift match {CONFIG}-current.pt --opponent heuristic --games 200")
