"""The monitor's handler and timer, and the agent's report, on a migrated database.

A fake clock drives time. Checks: a report publishes the node's levels; an unchanged
status is not republished before its refresh is due; disk pressure moves through its
levels with hysteresis and defers selfplay, then everything, then nothing; an older
report changes nothing; a silent node is lost after its missed heartbeats (not while
the monitor itself has just started), back with its next report, forgotten much later;
every change is in the history; bad reports are poison; the agent reports a real
directory's filesystem and this machine's memory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ringrift.events.envelope import new_event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, GpuStatus, NodeStatus, Pressure
from ringrift.events.topics import CLUSTER_STATUS, NODE_STATUS
from ringrift.service.cluster import EVALUATION, SELFPLAY, TRAINING, ClusterView
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.cluster_monitor.handlers import Agent, Monitor, MonitorPolicy
from services.cluster_monitor.pressure import DEFAULT_THRESHOLDS, GIB
from services.cluster_monitor.probe import GpuProbe
from services.cluster_monitor.status import BadReport
from services.cluster_monitor.tables import NodeRow, PressureChange
from tests.utils.schema import schema_differences

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TOTAL = 1000 * GIB


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def engine(database_url: str):
    migrations.upgrade_to_head(database_url, "cluster-monitor")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def monitor(clock: Clock) -> Monitor:
    return Monitor(MonitorPolicy(dict(DEFAULT_THRESHOLDS), missed_heartbeats=3, refresh_s=10),
                   clock=clock, started_at=START)


def report(node: str, clock: Clock, *, disk_used: float = 0.5, gpus_free_gib: tuple = (),
           **fields: object) -> object:
    status = NodeStatus(node_id=node, disk_total_bytes=TOTAL,
                        disk_free_bytes=int(TOTAL * (1 - disk_used)),
                        memory_total_bytes=64 * GIB, memory_available_bytes=32 * GIB,
                        cpu_load=0.5, interval_seconds=5.0, cpu_count=8,
                        gpus=[GpuStatus(index=i, memory_total_bytes=141 * GIB,
                                        memory_used_bytes=(141 - free) * GIB)
                              for i, free in enumerate(gpus_free_gib)])
    for name, value in fields.items():
        setattr(status, name, value)
    status.heartbeat_at.FromDatetime(clock.now)
    return new_event(status, config_key="all", producer="cluster-monitor")


def handle(engine, monitor: Monitor, event) -> list:
    with session_scope(engine) as session:
        return monitor.record_report(event, session)


def check(engine, monitor: Monitor) -> list:
    with session_scope(engine) as session:
        return monitor.check_heartbeats(session)


def published(outputs: list) -> ClusterStatus:
    [(topic, event)] = outputs
    assert topic is CLUSTER_STATUS and event.config_key == "all"
    return event.payload


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    from services.cluster_monitor import tables

    migrations.upgrade_to_head(database_url, "cluster-monitor")
    assert schema_differences(database_url, tables.Base) == []


def test_a_report_publishes_the_nodes_levels_and_an_unchanged_one_waits_for_the_refresh(
        engine, monitor: Monitor, clock: Clock) -> None:
    status = published(handle(engine, monitor, report("gpu-1", clock, gpus_free_gib=(100,))))
    [node] = status.nodes
    assert node.node_id == "gpu-1" and node.healthy and not node.lost
    assert node.level == node.disk == Pressure.PRESSURE_OK
    assert node.recommended_batch_size == 512 and node.disk_used_fraction == pytest.approx(0.5)
    assert status.refresh_seconds == 10 and status.HasField("updated_at")
    assert list(status.defer) == [] and status.overall == Pressure.PRESSURE_OK
    clock.advance(5)
    assert handle(engine, monitor, report("gpu-1", clock, gpus_free_gib=(100,))) == []
    assert check(engine, monitor) == []
    clock.advance(5)
    assert published(check(engine, monitor)).nodes[0].node_id == "gpu-1"  # refresh due


def test_disk_pressure_defers_with_hysteresis_and_readers_see_it(engine, monitor: Monitor,
                                                                 clock: Clock) -> None:
    def step(disk_used: float) -> ClusterStatus | None:
        clock.advance(1)
        outputs = handle(engine, monitor, report("gpu-1", clock, disk_used=disk_used))
        return published(outputs) if outputs else None

    assert step(0.5) is not None
    warning = step(0.86)
    assert list(warning.defer) == [SELFPLAY] and warning.nodes[0].healthy
    assert warning.reasons == ["selfplay: disk of gpu-1 86.0% used (warning from 85%)"]
    critical = step(0.93)
    assert list(critical.defer) == [SELFPLAY, TRAINING, EVALUATION]
    assert not critical.nodes[0].healthy and critical.overall == Pressure.PRESSURE_CRITICAL
    assert critical.nodes[0].reasons == ["disk 93.0% used (critical from 92%)"]
    assert step(0.90) is None  # above 92% - 3%: still critical, nothing new to say
    assert list(step(0.88).defer) == [SELFPLAY]
    assert list(step(0.50).defer) == []
    event = new_event(critical, config_key="all", producer="cluster-monitor")
    view = ClusterView(lambda: event, "gpu-1", clock=clock)
    assert view.should_defer(TRAINING) and not view.should_take_work()
    with session_scope(engine) as session:
        changes = [(c.resource, c.old_level, c.new_level) for c in
                   session.scalars(select(PressureChange).order_by(PressureChange.id))]
    assert changes == [("disk", 0, 1), ("disk", 1, 2), ("disk", 2, 1), ("disk", 1, 0)]


def test_an_older_report_changes_nothing(engine, monitor: Monitor, clock: Clock) -> None:
    old = report("gpu-1", clock, disk_used=0.99)
    clock.advance(5)
    handle(engine, monitor, report("gpu-1", clock, disk_used=0.5))
    assert handle(engine, monitor, old) == []
    with session_scope(engine) as session:
        assert session.get(NodeRow, "gpu-1").disk_level == 0


def test_a_silent_node_is_lost_then_back_then_forgotten(engine, clock: Clock) -> None:
    monitor = Monitor(MonitorPolicy(dict(DEFAULT_THRESHOLDS), missed_heartbeats=3,
                                    refresh_s=1000, forget_after_s=3600),
                      clock=clock, started_at=START)
    handle(engine, monitor, report("gpu-1", clock))
    handle(engine, monitor, report("gpu-2", clock))
    clock.advance(15)  # 3 x 5 s: not yet lost
    assert check(engine, monitor) == []
    clock.advance(1)
    handle(engine, monitor, report("gpu-2", clock))
    status = published(check(engine, monitor))
    lost = {node.node_id: node for node in status.nodes}
    assert lost["gpu-1"].lost and not lost["gpu-1"].healthy
    assert lost["gpu-1"].level == Pressure.PRESSURE_CRITICAL
    assert lost["gpu-1"].reasons[0].startswith("lost: no report since 2026-12-01 12:00:00 UTC")
    assert not lost["gpu-2"].lost and lost["gpu-2"].healthy
    assert status.overall == Pressure.PRESSURE_CRITICAL and list(status.defer) == []
    clock.advance(1)
    back = published(handle(engine, monitor, report("gpu-1", clock)))
    assert not any(node.lost for node in back.nodes)
    clock.advance(20)
    handle(engine, monitor, report("gpu-2", clock))
    assert [node.lost for node in published(check(engine, monitor)).nodes] == [True, False]
    clock.advance(3601)
    handle(engine, monitor, report("gpu-2", clock))
    assert [node.node_id for node in published(check(engine, monitor)).nodes] == ["gpu-2"]
    with session_scope(engine) as session:
        history = [(c.node_id, c.old_level, c.new_level) for c in session.scalars(
            select(PressureChange).where(PressureChange.resource == "heartbeat")
            .order_by(PressureChange.id))]
    assert history == [("gpu-1", 0, 2), ("gpu-1", 2, 0), ("gpu-1", 0, 2)]


def test_a_restarted_monitor_loses_no_node_before_it_has_run_a_heartbeat_limit(
        engine, clock: Clock) -> None:
    first = Monitor(MonitorPolicy(dict(DEFAULT_THRESHOLDS), missed_heartbeats=3), clock=clock,
                    started_at=START)
    handle(engine, first, report("gpu-1", clock))
    clock.advance(600)  # the monitor was down for 10 minutes
    restarted = Monitor(MonitorPolicy(dict(DEFAULT_THRESHOLDS), missed_heartbeats=3),
                        clock=clock, started_at=clock.now)
    assert not any(node.lost for node in published(check(engine, restarted)).nodes)
    clock.advance(16)
    assert all(node.lost for node in published(check(engine, restarted)).nodes)


@pytest.mark.parametrize(("fields", "message"), [
    ({"node_id": ""}, "node_id is empty"),
    ({"interval_seconds": 0.0}, "interval_seconds must be > 0"),
    ({"disk_free_bytes": 2 * TOTAL}, "disk_free_bytes exceeds"),
    ({"memory_available_bytes": 128 * GIB}, "memory_available_bytes exceeds"),
    ({"cpu_load": float("nan")}, "cpu_load must be a number"),
])
def test_reports_no_agent_writes_are_poison(engine, monitor: Monitor, clock: Clock,
                                            fields: dict, message: str) -> None:
    with pytest.raises(BadReport, match=message):
        handle(engine, monitor, report("gpu-1", clock, **fields))
    event = report("gpu-1", clock)
    event.payload.ClearField("heartbeat_at")
    with pytest.raises(BadReport, match="heartbeat_at is not set"):
        handle(engine, monitor, event)


def test_the_agent_reports_its_directorys_filesystem_and_this_machine(tmp_path: Path) -> None:
    gpus = GpuProbe()  # no NVML on this machine: no GPUs, no error
    agent = Agent("node-x", tmp_path / "not-yet" / "artifacts", 2.5, gpus)
    [(topic, event)] = agent.report(None)  # type: ignore[arg-type]
    status = event.payload
    assert topic is NODE_STATUS and event.producer == "cluster-monitor"
    assert status.node_id == "node-x" and status.interval_seconds == 2.5
    assert 0 < status.disk_free_bytes <= status.disk_total_bytes
    assert 0 < status.memory_available_bytes <= status.memory_total_bytes
    assert status.cpu_count >= 1 and status.cpu_load >= 0 and status.HasField("heartbeat_at")
    assert list(status.gpus) == [] or gpus.available
    gpus.close()
