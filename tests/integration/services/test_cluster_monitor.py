"""The cluster monitor run as users run it: an agent and a monitor as processes, the real broker.

Checks: filling a small artifact volume (a 16 MiB tmpfs) past the warning and then the
critical threshold defers selfplay and then training (read through the ClusterView that
services use), and freeing it clears the deferrals; a SIGKILLed agent's node is reported
lost (and the ``node_lost`` gauge says so) and back once an agent reports again; reports
no agent writes are dead-lettered with their reasons while the good ones are used; a
SIGKILL of the monitor mid-stream and a restart record every level change exactly once.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from ringrift.events.deadletter import ERROR_MESSAGE
from ringrift.events.envelope import new_event
from ringrift.events.gen.ops.v1.ops_pb2 import NodeStatus
from ringrift.events.producer import EventProducer
from ringrift.events.replay import list_dead_letters
from ringrift.events.table import TableReader
from ringrift.events.topics import CLUSTER_STATUS, NODE_STATUS
from ringrift.service.cluster import SELFPLAY, STATUS_KEY, TRAINING, ClusterView
from ringrift.storage.database import make_engine, session_scope
from services.cluster_monitor.tables import PressureChange
from tests.fixtures.services import ServiceEnv, ServiceProcess
from tests.integration.events.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
MIB = 1 << 20
GIB = 1 << 30
# Lost after 10 s of silence: agents report every 0.5 s, and a busy machine may delay one.
MONITOR_FLAGS = ("--role", "monitor", "--check-every-s", "0.5", "--missed-heartbeats", "20")


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs: an artifact volume the test can fill to any level."""
    if os.geteuid() != 0:
        pytest.skip("mounting a 16 MiB tmpfs as the artifact volume needs root")
    path = tmp_path / "volume"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def view(service_env: ServiceEnv) -> Iterator[ClusterView]:
    """What a service on node-a sees: the ClusterView over the monitor's ClusterStatus."""
    reader: TableReader = TableReader(service_env.kafka, service_env.topic(CLUSTER_STATUS))
    reader.start()
    try:
        yield ClusterView(lambda: reader.get(STATUS_KEY), "node-a")
    finally:
        reader.close()


def start(env: ServiceEnv, node: str, *flags: str) -> ServiceProcess:
    return env.start("cluster-monitor", *flags,
                     env=env.env("cluster-monitor", RINGRIFT_NODE_ID=node))


def fill(volume: Path, mib: int) -> None:
    with (volume / "filler").open("ab") as out:
        out.write(b"\x01" * (mib * MIB))
        out.flush()
        os.fsync(out.fileno())


def gauge(process: ServiceProcess, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(process.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_a_full_artifact_volume_defers_work_until_space_is_freed(
        service_env: ServiceEnv, small_volume: Path, view: ClusterView) -> None:
    service_env.migrate("cluster-monitor")
    monitor = start(service_env, "node-m", *MONITOR_FLAGS)
    agent = start(service_env, "node-a", "--role", "agent", "--report-every-s", "0.5",
                  "--disk-path", str(small_volume))
    wait_until(lambda: view.node() is not None, 180, "node-a in the cluster status")
    assert view.node().disk_used_fraction < 0.1 and not view.should_defer(SELFPLAY)
    assert view.should_take_work() and view.recommended_batch_size(64) == 64  # no GPU here

    fill(small_volume, 14)  # 87.5%: warning
    wait_until(lambda: view.should_defer(SELFPLAY), 120, "selfplay deferred at warning")
    assert not view.should_defer(TRAINING) and view.should_take_work()
    fill(small_volume, 1)  # 93.75%: critical
    wait_until(lambda: view.should_defer(TRAINING), 120, "training deferred at critical")
    assert view.node_critical() and not view.should_take_work()
    assert "disk of node-a 93.8% used (critical from 92%)" in view.deferral_reason(TRAINING)
    wait_until(lambda: gauge(monitor, "ringrift_cluster_monitor_node_pressure_level",
                             node="node-a", resource="disk") == 2, 60, "the disk gauge at 2")
    assert gauge(monitor, "ringrift_cluster_monitor_work_deferred", work="training") == 1
    assert gauge(agent, "ringrift_cluster_monitor_disk_size_bytes", node="node-a") == 16 * MIB

    (small_volume / "filler").unlink()
    wait_until(lambda: not view.should_defer(SELFPLAY), 120, "deferrals cleared")
    assert not view.should_defer(TRAINING) and view.should_take_work()
    for process in (agent, monitor):
        process.terminate()
        assert process.wait() == 0


def test_a_killed_agents_node_is_reported_lost_and_back_with_a_new_agent(
        service_env: ServiceEnv, view: ClusterView) -> None:
    service_env.migrate("cluster-monitor")
    monitor = start(service_env, "node-m", *MONITOR_FLAGS)
    agent = start(service_env, "node-a", "--role", "agent", "--report-every-s", "0.5")
    wait_until(lambda: view.node() is not None and not view.node_lost(), 180, "node-a alive")
    agent.process.kill()
    wait_until(view.node_lost, 120, "node-a reported lost")
    assert not view.should_take_work() and "lost" in view.not_taking_work_reason()
    wait_until(lambda: gauge(monitor, "ringrift_cluster_monitor_node_lost", node="node-a") == 1,
               60, "the node_lost gauge at 1")
    start(service_env, "node-a", "--role", "agent", "--report-every-s", "0.5")
    wait_until(lambda: view.node() is not None and not view.node_lost(), 180, "node-a back")
    assert gauge(monitor, "ringrift_cluster_monitor_node_lost", node="node-a") == 0


def report(node: str, disk_used: float, at: datetime) -> object:
    status = NodeStatus(node_id=node, disk_total_bytes=100 * GIB,
                        disk_free_bytes=int(100 * GIB * (1 - disk_used)),
                        memory_total_bytes=GIB, memory_available_bytes=GIB, cpu_load=0.1,
                        interval_seconds=5.0)
    status.heartbeat_at.FromDatetime(at)
    return new_event(status, config_key="all", producer="cluster-monitor")


def test_reports_no_agent_writes_are_dead_lettered_and_the_good_ones_used(
        service_env: ServiceEnv, view: ClusterView) -> None:
    service_env.migrate("cluster-monitor")
    topic = service_env.topic(NODE_STATUS)
    bad = report("", 0.5, datetime.now(UTC))
    with EventProducer(service_env.kafka) as producer:
        producer.produce_raw(topic.name, "node-x", b"\x07 not an envelope")
    service_env.publish(NODE_STATUS, [bad, report("node-a", 0.95, datetime.now(UTC))])
    monitor = start(service_env, "node-m", *MONITOR_FLAGS)
    wait_until(lambda: view.should_defer(TRAINING), 180, "node-a's report used")
    wait_until(lambda: len(list_dead_letters(service_env.kafka, topic.name)) == 2, 120,
               "two dead letters")
    reasons = sorted(letter.context[ERROR_MESSAGE]
                     for letter in list_dead_letters(service_env.kafka, topic.name))
    assert "node_id is empty" in reasons[0] and "not a ringrift.events.v1.Envelope" in reasons[1]
    monitor.wait_for("/readyz", 200)
    monitor.terminate()
    assert monitor.wait() == 0


def test_a_killed_monitor_resumes_and_records_every_level_change_once(
        service_env: ServiceEnv, view: ClusterView) -> None:
    url = service_env.migrate("cluster-monitor")
    steps = (0.5, 0.86, 0.93, 0.88, 0.5, 0.95)  # ok, warning, critical, warning, ok, critical
    start_at = datetime.now(UTC) - timedelta(minutes=1)
    nodes = [f"node-{i}" for i in range(6)]
    service_env.publish(NODE_STATUS, [report(node, used, start_at + timedelta(seconds=index))
                                      for index, used in enumerate(steps) for node in nodes])
    flags = (*MONITOR_FLAGS[:-1], "1000", "--kafka-batch-size", "1")
    engine = make_engine(url)

    def changes() -> int:
        with session_scope(engine, read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(PressureChange)))

    try:
        first = start(service_env, "node-m", *flags)
        wait_until(lambda: changes() >= 4, 300, "some level changes recorded")
        first.process.kill()
        start(service_env, "node-m", *flags)
        expected = 5 * len(nodes)
        wait_until(lambda: changes() == expected and view.node("node-5") is not None
                   and view.node("node-5").disk_used_fraction > 0.9, 300,
                   "every report handled after the restart")
        with session_scope(engine, read_only=True) as session:
            rows = [(c.node_id, c.old_level, c.new_level) for c in session.scalars(
                select(PressureChange).order_by(PressureChange.id))]
    finally:
        engine.dispose()
    for node in nodes:
        assert [(old, new) for name, old, new in rows if name == node] == [
            (0, 1), (1, 2), (2, 1), (1, 0), (0, 2)], rows
    assert view.should_defer(TRAINING) and len(view.status().nodes) == len(nodes)
