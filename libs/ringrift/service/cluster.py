"""Following cluster health from any service: the one reading of ``ClusterStatus``.

The cluster monitor (``services/cluster_monitor``) publishes one ``ClusterStatus`` on
the compacted topic ``ringrift.cluster.status.v1``: per node its pressure levels and
whether it is lost, the work to defer everywhere, and a batch size recommended from the
free GPU memory. Selfplay, trainer and evaluator ask the same three questions of it;
:class:`ClusterView` answers them here, once, so that no service re-interprets the
status on its own:

* ``view.should_defer(TRAINING)``: put that kind of work off (e.g. the artifact volume
  is nearly full);
* ``view.should_take_work()``: False while this process's node is critical or lost
  (the runtime's job routing uses it to leave the consumer group, so that healthy
  replicas take the work over);
* ``view.recommended_batch_size(default)``: from the node's free GPU memory.

A service gets its view from the runtime (``cluster = runtime.cluster()``); the node is
named by the setting ``RINGRIFT_NODE_ID`` (flag ``--node-id``), default the hostname.
Without a status, or with one older than a few of the monitor's refresh periods (the
monitor is gone), the view knows nothing and holds nothing back: no deferral, take
work, the caller's default batch size. A stale verdict must never stop the pipeline.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

from ringrift.events.envelope import Event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, Pressure

SELFPLAY = "selfplay"
TRAINING = "training"
EVALUATION = "evaluation"
WORK_KINDS: tuple[str, ...] = (SELFPLAY, TRAINING, EVALUATION)
"""The kinds of work the monitor may defer (``ClusterStatus.defer``)."""
STATUS_KEY = "all"
"""The key of the one ClusterStatus on its compacted topic."""
STALE_PERIODS = 3.0
"""A status older than this many of the monitor's refresh periods is unknown."""
DEFAULT_STALE_AFTER_S = 120.0
"""The age at which a status that names no refresh period is unknown."""

LatestStatus = Callable[[], Event[ClusterStatus] | None]
"""The latest ClusterStatus event (a table reader's ``get(STATUS_KEY)``), or None."""


def default_node_id() -> str:
    """The node id of a process that sets none: the machine's hostname."""
    return socket.gethostname()


class ClusterView:
    """Answers "defer X?", "may my node take work?" and "which batch size?" from the status.

    Args:
        latest: returns the latest ClusterStatus event, or None before the first one.
        node_id: the node this process runs on (``RINGRIFT_NODE_ID``).
        clock: the current time (UTC), for the staleness check.
    """

    def __init__(self, latest: LatestStatus, node_id: str, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._latest = latest
        self.node_id = node_id
        self._clock = clock

    def status(self) -> ClusterStatus | None:
        """The current status, or None when there is none or it is stale."""
        event = self._latest()
        if event is None:
            return None
        age = self._age_s(event)
        refresh = event.payload.refresh_seconds
        limit = STALE_PERIODS * refresh if refresh > 0 else DEFAULT_STALE_AFTER_S
        return event.payload if age <= limit else None

    def age_s(self) -> float | None:
        """Seconds since the monitor wrote the latest status (None: no status yet)."""
        event = self._latest()
        return None if event is None else self._age_s(event)

    def should_defer(self, work: str) -> bool:
        """Whether to put off new work of kind ``work`` (one of :data:`WORK_KINDS`).

        Raises:
            ValueError: ``work`` is not a kind the monitor defers.
        """
        return self.deferral_reason(work) is not None

    def deferral_reason(self, work: str) -> str | None:
        """Why ``work`` is deferred (the monitor's reason), or None when it is not.

        Raises:
            ValueError: ``work`` is not a kind the monitor defers.
        """
        if work not in WORK_KINDS:
            raise ValueError(f"unknown kind of work {work!r}; the cluster monitor defers "
                             f"{', '.join(WORK_KINDS)}")
        status = self.status()
        if status is None or work not in status.defer:
            return None
        reasons = [reason for reason in status.reasons if reason.startswith(f"{work}:")]
        return reasons[0] if reasons else f"{work}: deferred by the cluster monitor"

    def node(self, node_id: str | None = None) -> NodeHealth | None:
        """The health of ``node_id`` (default: this process's node), or None if unknown."""
        status = self.status()
        wanted = node_id or self.node_id
        if status is not None:
            for node in status.nodes:
                if node.node_id == wanted:
                    return node
        return None

    def node_critical(self) -> bool:
        """Whether this process's node has a resource at critical pressure."""
        node = self.node()
        return node is not None and node.level == Pressure.PRESSURE_CRITICAL and not node.lost

    def node_lost(self) -> bool:
        """Whether the monitor has lost this process's node (its agent stopped reporting)."""
        node = self.node()
        return node is not None and node.lost

    def should_take_work(self) -> bool:
        """False while this process's node is critical or lost; True when unknown."""
        return self.not_taking_work_reason() is None

    def not_taking_work_reason(self) -> str | None:
        """Why this node should take no new work now (one line), or None."""
        node = self.node()
        if node is None:
            return None
        if node.lost:
            return f"node {node.node_id} is reported lost (its agent missed its heartbeats)"
        if node.level == Pressure.PRESSURE_CRITICAL:
            detail = "; ".join(node.reasons) or "critical pressure"
            return f"node {node.node_id} is under critical pressure: {detail}"
        return None

    def recommended_batch_size(self, default: int) -> int:
        """The batch size the monitor recommends for this node's GPU, else ``default``."""
        node = self.node()
        if node is None or node.lost or node.recommended_batch_size == 0:
            return default
        return int(node.recommended_batch_size)

    def _age_s(self, event: Event[ClusterStatus]) -> float:
        written = event.payload.updated_at.ToDatetime(tzinfo=UTC) \
            if event.payload.HasField("updated_at") else event.produced_at
        return max(0.0, (self._clock() - written).total_seconds())
