"""The cluster view: the one reading of ClusterStatus that every service uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, Pressure
from ringrift.service.cluster import (
    EVALUATION,
    SELFPLAY,
    TRAINING,
    ClusterView,
    default_node_id,
)
from ringrift.service.flags import load_settings
from services.example.settings import ExampleSettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OK, CRITICAL = Pressure.PRESSURE_OK, Pressure.PRESSURE_CRITICAL


def status_event(*nodes: NodeHealth, defer: tuple[str, ...] = (), reasons: tuple[str, ...] = (),
                 age_s: float = 0.0, refresh_s: float = 10.0) -> Event[ClusterStatus]:
    status = ClusterStatus(nodes=list(nodes), defer=list(defer), reasons=list(reasons),
                           refresh_seconds=refresh_s)
    status.updated_at.FromDatetime(NOW - timedelta(seconds=age_s))
    return new_event(status, config_key="all", producer="cluster-monitor")


def view(event: Event[ClusterStatus] | None, node_id: str = "gpu-1") -> ClusterView:
    return ClusterView(lambda: event, node_id, clock=lambda: NOW)


def node(node_id: str, level: int = OK, *, lost: bool = False, batch: int = 0,
         reasons: tuple[str, ...] = ()) -> NodeHealth:
    return NodeHealth(node_id=node_id, level=level, lost=lost, healthy=level != CRITICAL
                      and not lost, recommended_batch_size=batch, reasons=list(reasons))


def test_without_a_status_nothing_is_held_back() -> None:
    nothing = view(None)
    assert nothing.status() is None and nothing.age_s() is None
    assert not any(nothing.should_defer(work) for work in (SELFPLAY, TRAINING, EVALUATION))
    assert nothing.should_take_work() and not nothing.node_critical() and not nothing.node_lost()
    assert nothing.recommended_batch_size(64) == 64


def test_deferral_follows_the_status_with_the_monitors_reason() -> None:
    event = status_event(node("gpu-1"), defer=(TRAINING, SELFPLAY),
                         reasons=("selfplay: disk of gpu-1 86.0% used (warning from 85%)",
                                  "training: disk of gpu-1 93.0% used (critical from 92%)"))
    current = view(event)
    assert current.should_defer(TRAINING) and current.should_defer(SELFPLAY)
    assert not current.should_defer(EVALUATION)
    assert current.deferral_reason(TRAINING) == "training: disk of gpu-1 93.0% used " \
                                                "(critical from 92%)"
    assert current.deferral_reason(EVALUATION) is None


def test_an_unknown_kind_of_work_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="selfplay, training, evaluation"):
        view(status_event()).should_defer("exporting")


def test_a_critical_or_lost_node_takes_no_work_other_nodes_do() -> None:
    event = status_event(node("gpu-1", CRITICAL, reasons=("memory 97.0% used (critical from "
                                                          "95%)",)),
                         node("gpu-2", CRITICAL, lost=True), node("gpu-3"))
    first, second, third, unknown = (view(event, name) for name in
                                     ("gpu-1", "gpu-2", "gpu-3", "laptop"))
    assert first.node_critical() and not first.node_lost() and not first.should_take_work()
    assert "memory 97.0% used" in (first.not_taking_work_reason() or "")
    assert second.node_lost() and not second.node_critical() and not second.should_take_work()
    assert "lost" in (second.not_taking_work_reason() or "")
    assert third.should_take_work() and third.not_taking_work_reason() is None
    assert unknown.should_take_work() and unknown.node() is None
    assert first.node("gpu-3") == event.payload.nodes[2]


def test_batch_size_comes_from_the_nodes_gpu_else_the_default() -> None:
    event = status_event(node("gpu-1", batch=512), node("cpu-1"), node("gpu-2", lost=True,
                                                                         batch=256))
    assert view(event, "gpu-1").recommended_batch_size(128) == 512
    assert view(event, "cpu-1").recommended_batch_size(128) == 128  # no GPU: 0 in the status
    assert view(event, "gpu-2").recommended_batch_size(100) == 100  # lost: its figure is old
    assert view(event, "other").recommended_batch_size(32) == 32


def test_a_stale_status_is_unknown_so_a_dead_monitor_never_stops_the_pipeline() -> None:
    fresh = status_event(node("gpu-1", CRITICAL), defer=(TRAINING,), age_s=29, refresh_s=10)
    stale = status_event(node("gpu-1", CRITICAL), defer=(TRAINING,), age_s=31, refresh_s=10)
    assert view(fresh).should_defer(TRAINING) and not view(fresh).should_take_work()
    assert not view(stale).should_defer(TRAINING) and view(stale).should_take_work()
    assert view(stale).status() is None and view(stale).age_s() == pytest.approx(31)
    # A status that names no refresh period is unknown after DEFAULT_STALE_AFTER_S (120 s).
    assert view(status_event(defer=(TRAINING,), age_s=100, refresh_s=0)).should_defer(TRAINING)
    assert not view(status_event(defer=(TRAINING,), age_s=130, refresh_s=0)).should_defer(
        TRAINING)


def test_the_node_id_setting_defaults_to_the_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RINGRIFT_NODE_ID", raising=False)
    assert load_settings(ExampleSettings, []).node_id == default_node_id() != ""
    monkeypatch.setenv("RINGRIFT_NODE_ID", "gpu-7")
    assert load_settings(ExampleSettings, []).node_id == "gpu-7"
    assert load_settings(ExampleSettings, ["--node-id", "gpu-8"]).node_id == "gpu-8"
