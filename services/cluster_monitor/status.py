"""From the nodes the monitor knows to the ``ClusterStatus`` it publishes (pure functions).

:func:`check_report` decides which reports are poison; :func:`measurements` turns a
report into the value of each resource; :func:`node_health` and :func:`cluster_status`
build the messages, using only :mod:`services.cluster_monitor.pressure` for what the
levels mean.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ringrift.errors import PoisonMessage
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, NodeStatus
from ringrift.service.cluster import WORK_KINDS
from ringrift.storage.database import as_utc
from services.cluster_monitor.pressure import (
    RESOURCES,
    Level,
    Threshold,
    batch_size_for,
    deferrals,
)
from services.cluster_monitor.tables import NodeRow


class BadReport(PoisonMessage):
    """A NodeStatus that no agent of this service writes (dead-lettered with the reason)."""


def check_report(report: NodeStatus) -> None:
    """Raises :class:`BadReport` naming what is wrong with ``report``."""
    node = report.node_id or "(no node id)"
    problems = []
    if not report.node_id:
        problems.append("node_id is empty")
    if not report.HasField("heartbeat_at"):
        problems.append("heartbeat_at is not set")
    if not (math.isfinite(report.interval_seconds) and report.interval_seconds > 0):
        problems.append(f"interval_seconds must be > 0, not {report.interval_seconds}")
    if report.disk_free_bytes > report.disk_total_bytes:
        problems.append("disk_free_bytes exceeds disk_total_bytes")
    if report.memory_available_bytes > report.memory_total_bytes:
        problems.append("memory_available_bytes exceeds memory_total_bytes")
    if not (math.isfinite(report.cpu_load) and report.cpu_load >= 0):
        problems.append(f"cpu_load must be a number >= 0, not {report.cpu_load}")
    for gpu in report.gpus:
        if gpu.memory_used_bytes > gpu.memory_total_bytes:
            problems.append(f"GPU {gpu.index}: memory_used_bytes exceeds memory_total_bytes")
    if problems:
        raise BadReport(f"node status of {node}: {'; '.join(problems)}")


def measurements(report: NodeStatus) -> dict[str, float]:
    """Each resource's value: fractions used (disk, memory, fullest GPU), load per core."""
    def used(free: int, total: int) -> float:
        return 1.0 - free / total if total > 0 else 0.0
    gpu = [gpu.memory_used_bytes / gpu.memory_total_bytes for gpu in report.gpus
           if gpu.memory_total_bytes > 0]
    return {"disk": used(report.disk_free_bytes, report.disk_total_bytes),
            "memory": used(report.memory_available_bytes, report.memory_total_bytes),
            "cpu": report.cpu_load, "gpu_memory": max(gpu, default=0.0)}


def levels_of(row: NodeRow) -> dict[str, Level]:
    return {"disk": Level(row.disk_level), "memory": Level(row.memory_level),
            "cpu": Level(row.cpu_level), "gpu_memory": Level(row.gpu_memory_level)}


def set_levels(row: NodeRow, levels: Mapping[str, Level]) -> None:
    row.disk_level, row.memory_level = int(levels["disk"]), int(levels["memory"])
    row.cpu_level, row.gpu_memory_level = int(levels["cpu"]), int(levels["gpu_memory"])


@dataclass(frozen=True)
class KnownNode:
    """A node row with its latest report decoded."""

    row: NodeRow
    report: NodeStatus

    @classmethod
    def of(cls, row: NodeRow) -> KnownNode:
        report = NodeStatus()
        report.ParseFromString(row.report)
        return cls(row, report)

    def descriptions(self, thresholds: Mapping[str, Threshold]) -> list[tuple[str, Level, str]]:
        """``(resource, level, description)`` of each resource above OK."""
        values, levels = measurements(self.report), levels_of(self.row)
        return [(resource, levels[resource],
                 thresholds[resource].describe(resource, values[resource], levels[resource]))
                for resource in RESOURCES if levels[resource] > Level.OK]


def node_health(node: KnownNode, thresholds: Mapping[str, Threshold],
                lost_after_s: float) -> NodeHealth:
    """The node as readers see it (levels, loss, reasons, batch size, measurements)."""
    row, report = node.row, node.report
    levels, values = levels_of(row), measurements(report)
    reasons = [text for _, _, text in node.descriptions(thresholds)]
    level = max(levels.values())
    if row.lost:
        level = Level.CRITICAL
        reasons.insert(0, f"lost: no report since {as_utc(row.heartbeat_at):%Y-%m-%d %H:%M:%S}"
                          f" UTC (lost after {lost_after_s:g} s)")
    health = NodeHealth(
        node_id=row.node_id, healthy=not row.lost and level < Level.CRITICAL,
        disk=levels["disk"].proto, memory=levels["memory"].proto, cpu=levels["cpu"].proto,
        gpu=levels["gpu_memory"].proto, lost=row.lost, level=level.proto, reasons=reasons,
        recommended_batch_size=batch_size_for(
            gpu.memory_total_bytes - gpu.memory_used_bytes for gpu in report.gpus),
        disk_used_fraction=values["disk"], memory_used_fraction=values["memory"],
        cpu_load=values["cpu"], gpu_memory_used_fraction=values["gpu_memory"],
        gpu_memory_free_bytes=min((gpu.memory_total_bytes - gpu.memory_used_bytes
                                   for gpu in report.gpus), default=0))
    health.last_heartbeat_at.FromDatetime(as_utc(row.heartbeat_at))
    return health


def cluster_status(nodes: Iterable[KnownNode], thresholds: Mapping[str, Threshold],
                   refresh_s: float, missed_heartbeats: int) -> ClusterStatus:
    """The status of all ``nodes`` (without its time stamp): levels, deferrals, reasons."""
    known = sorted(nodes, key=lambda node: node.row.node_id)
    healths = [node_health(node, thresholds, missed_heartbeats * node.row.interval_s)
               for node in known]
    deferred = deferrals((node.row.node_id, resource, level, text) for node in known
                         if not node.row.lost for resource, level, text
                         in node.descriptions(thresholds))
    overall = max((health.level for health in healths), default=Level.OK.proto)
    return ClusterStatus(nodes=healths, overall=overall, refresh_seconds=refresh_s,
                         defer=[work for work in WORK_KINDS if work in deferred],
                         reasons=[reason for work in WORK_KINDS
                                  for reason in deferred.get(work, ())])


_MEASURED = ("reasons", "last_heartbeat_at", "disk_used_fraction", "memory_used_fraction",
             "cpu_load", "gpu_memory_used_fraction", "gpu_memory_free_bytes")


def verdict(status: ClusterStatus) -> bytes:
    """What readers act on, without the measurements: levels, losses, deferrals, batch
    sizes. A status whose verdict is unchanged waits for its refresh to be published."""
    reduced = ClusterStatus()
    reduced.CopyFrom(status)
    reduced.ClearField("reasons")
    reduced.ClearField("updated_at")
    for node in reduced.nodes:
        for name in _MEASURED:
            node.ClearField(name)
    return reduced.SerializeToString(deterministic=True)
