"""The cluster monitor's logic: the agent's report, the monitor's handler and its timer.

No Kafka and no environment here: each function gets a session (and an event) and
returns outputs for the outbox, so all of it is tested with a database alone.

* :meth:`Agent.report` (the agent's timer): one ``NodeStatus`` of this node.
* :meth:`Monitor.record_report` (the monitor's handler of ``NodeStatus``): the node's
  levels with hysteresis, the history of changes, and a new ``ClusterStatus`` when
  anything a reader sees changed. An older report than the one held (a redelivery)
  changes nothing; a report no agent writes is poison.
* :meth:`Monitor.check_heartbeats` (the monitor's timer): nodes whose agent missed
  ``missed_heartbeats`` reports are lost (not before the monitor itself has run that
  long, so a restarted monitor does not lose every node while it catches up), nodes
  lost for ``forget_after_s`` are dropped, and the status is republished every
  ``refresh_s`` so that readers can tell a live monitor from a dead one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringrift.events.envelope import Event, follow_up, new_event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeStatus
from ringrift.events.outbox import Output
from ringrift.events.topics import CLUSTER_STATUS, NODE_STATUS
from ringrift.storage.database import as_utc
from services.cluster_monitor import metrics
from services.cluster_monitor.pressure import RESOURCES, Level, Threshold
from services.cluster_monitor.probe import GpuProbe, measure
from services.cluster_monitor.status import (
    KnownNode,
    check_report,
    cluster_status,
    levels_of,
    measurements,
    set_levels,
    verdict,
)
from services.cluster_monitor.tables import NodeRow, PressureChange, StatusPublication

log = logging.getLogger(__name__)
PRODUCER = "cluster-monitor"
HEARTBEAT = "heartbeat"
"""The ``resource`` of a history row that records a node lost (level 2) or back (0)."""
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Agent:
    """Reports one node every ``interval_s`` (the agent role's timer)."""

    def __init__(self, node_id: str, disk_path: Path, interval_s: float,
                 gpus: GpuProbe) -> None:
        self.node_id, self.disk_path, self.interval_s, self.gpus = (node_id, disk_path,
                                                                    interval_s, gpus)

    def report(self, _session: Session) -> list[Output]:
        status = measure(self.node_id, self.disk_path, self.interval_s, self.gpus)
        metrics.export_report(status)
        return [(NODE_STATUS, new_event(status, config_key="all", producer=PRODUCER))]


@dataclass(frozen=True)
class MonitorPolicy:
    thresholds: Mapping[str, Threshold]
    missed_heartbeats: int = 4
    refresh_s: float = 10.0
    forget_after_s: float = 86_400.0


@dataclass
class Monitor:
    """The monitor role's handler and timer over its ``nodes`` table."""

    policy: MonitorPolicy
    clock: Clock = utc_now
    started_at: datetime = field(default_factory=utc_now)

    def record_report(self, event: Event[NodeStatus], session: Session) -> list[Output]:
        """The consumer handler of ``NodeStatus``.

        Raises:
            BadReport: the report is not one an agent writes (dead-lettered).
        """
        report = event.payload
        check_report(report)
        now, heartbeat = self.clock(), report.heartbeat_at.ToDatetime(tzinfo=UTC)
        row = session.get(NodeRow, report.node_id)
        if row is not None and heartbeat <= as_utc(row.heartbeat_at):
            return []  # a redelivered or reordered older report
        if row is None:
            row = NodeRow(node_id=report.node_id, lost=False, lost_since=None)
            set_levels(row, dict.fromkeys(RESOURCES, Level.OK))
            session.add(row)
        values, previous = measurements(report), levels_of(row)
        levels = {resource: self.policy.thresholds[resource].level(values[resource],
                                                                   previous[resource])
                  for resource in RESOURCES}
        for resource in RESOURCES:
            if levels[resource] != previous[resource]:
                self._changed(session, row.node_id, resource, previous[resource],
                              levels[resource], values[resource], now)
        set_levels(row, levels)
        row.heartbeat_at, row.interval_s = heartbeat, report.interval_seconds
        row.report = report.SerializeToString()
        self._set_lost(session, row, self._is_lost(heartbeat, row.interval_s, now), now)
        return self._publish_if_changed(session, now, event)

    def check_heartbeats(self, session: Session) -> list[Output]:
        """The timer: lose silent nodes, forget long-lost ones, refresh the status."""
        now = self.clock()
        for row in list(session.scalars(select(NodeRow))):
            heartbeat = as_utc(row.heartbeat_at)
            if row.lost and row.lost_since is not None and \
                    (now - as_utc(row.lost_since)).total_seconds() > self.policy.forget_after_s:
                log.info("forgetting node %s (lost since %s)", row.node_id, row.lost_since,
                         extra={"node": row.node_id})
                metrics.forget_node(row.node_id)
                session.delete(row)
                continue
            self._set_lost(session, row, row.lost or self._is_lost(heartbeat, row.interval_s,
                                                                   now), now)
        session.flush()
        return self._publish_if_changed(session, now, None)

    # ---- helpers ---------------------------------------------------------------------

    def lost_after_s(self, interval_s: float) -> float:
        return self.policy.missed_heartbeats * interval_s

    def _is_lost(self, heartbeat: datetime, interval_s: float, now: datetime) -> bool:
        limit = self.lost_after_s(interval_s)
        return (now - heartbeat).total_seconds() > limit and \
            (now - self.started_at).total_seconds() > limit

    def _set_lost(self, session: Session, row: NodeRow, lost: bool, now: datetime) -> None:
        if lost == row.lost:
            return
        silent_s = (now - as_utc(row.heartbeat_at)).total_seconds()
        if lost:
            log.warning("node %s lost: no report for %.0f s (%d missed)", row.node_id,
                        silent_s, self.policy.missed_heartbeats, extra={"node": row.node_id})
        else:
            log.info("node %s is back", row.node_id, extra={"node": row.node_id})
        self._changed(session, row.node_id, HEARTBEAT, Level.CRITICAL if row.lost else Level.OK,
                      Level.CRITICAL if lost else Level.OK, silent_s, now)
        row.lost, row.lost_since = lost, now if lost else None

    @staticmethod
    def _changed(session: Session, node_id: str, resource: str, old: Level, new: Level,
                 value: float, now: datetime) -> None:
        session.add(PressureChange(node_id=node_id, resource=resource, old_level=int(old),
                                   new_level=int(new), value=value, changed_at=now))
        if resource != HEARTBEAT:
            log.info("node %s: %s %s -> %s (%.3f)", node_id, resource, old.name.lower(),
                     new.name.lower(), value, extra={"node": node_id})

    def _publish_if_changed(self, session: Session, now: datetime,
                            cause: Event[NodeStatus] | None) -> list[Output]:
        session.flush()
        nodes = [KnownNode.of(row) for row in session.scalars(select(NodeRow))]
        status = cluster_status(nodes, self.policy.thresholds, self.policy.refresh_s,
                                self.policy.missed_heartbeats)
        metrics.export_status(status)
        content = verdict(status)
        last = session.get(StatusPublication, 1)
        if last is not None and last.content == content and \
                (now - as_utc(last.published_at)).total_seconds() < self.policy.refresh_s:
            return []
        if last is None:
            last = StatusPublication(id=1, publications=0)
            session.add(last)
        last.content, last.published_at, last.publications = content, now, last.publications + 1
        status.updated_at.FromDatetime(now)
        metrics.STATUSES_PUBLISHED.inc()
        event: Event[ClusterStatus] = (
            follow_up(cause, status, producer=PRODUCER, config_key="all") if cause is not None
            else new_event(status, config_key="all", producer=PRODUCER))
        return [(CLUSTER_STATUS, event)]
