"""Job routing by cluster health: a replica on a critical or lost node steps aside.

While the cluster monitor reports this process's node critical (a resource past its
critical threshold) or lost (its agent stopped reporting), a service that asked for
routing (``runtime.cluster(route=True)``) takes no new work: the runtime closes its
consumer loop, which commits what is finished, stops running jobs cooperatively (they
checkpoint; their next owner resumes them) and leaves the consumer group, so the group
gives the partitions to the healthy replicas. A source (selfplay's games) is not called
meanwhile. Once the node is reported healthy again the runtime makes a new loop, which
joins the group and gets its share of the partitions back.

Leaving the group, not pausing partitions, is what moves the work: a paused partition
stays assigned to the paused replica. A static member (``--instance-id``) does not send
a leave request, by Kafka's design; the broker moves its partitions after the session
timeout (``RINGRIFT_KAFKA_SESSION_TIMEOUT_MS``).

Without a (fresh) status the node takes work: the cluster view fails open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ringrift.events.consumer import ConsumerLoop
from ringrift.service.cluster import ClusterView
from ringrift.service.metrics import TAKING_WORK

log = logging.getLogger(__name__)


class HealthRouter:
    """Decides, turn by turn, whether this replica takes new work, and logs the changes.

    Args:
        view: the cluster view of this process's node.
        service: the service name (metric label).
    """

    def __init__(self, view: ClusterView, service: str) -> None:
        self.view = view
        self._gauge = TAKING_WORK.labels(service)
        self._reason: str | None = None
        self._gauge.set(1)

    @property
    def reason(self) -> str | None:
        """Why the replica steps aside now, or None while it takes work."""
        return self._reason

    def taking_work(self) -> bool:
        """Whether to take new work now (evaluates the latest cluster status)."""
        reason = self.view.not_taking_work_reason()
        if reason != self._reason:
            if reason is None:
                log.info("taking work again: node %s is no longer critical or lost",
                         self.view.node_id, extra={"node": self.view.node_id})
            elif self._reason is None:
                log.warning("stepping aside (no new work; the consumer group moves it to "
                            "healthy replicas): %s", reason, extra={"node": self.view.node_id})
            self._reason = reason
            self._gauge.set(1 if reason is None else 0)
        return reason is None

    def route(self, consumer: ConsumerLoop | None,
              new_consumer: Callable[[], ConsumerLoop] | None,
              grace_s: float) -> tuple[bool, ConsumerLoop | None]:
        """Step aside or rejoin as the verdict changes.

        Args:
            consumer: the service's consumer loop now (None while stepped aside).
            new_consumer: makes a fresh loop of the service's group (None: no consumer).
            grace_s: how long running jobs may take to checkpoint when stepping aside.

        Returns:
            Whether to take work now, and the consumer loop from now on.
        """
        taking = self.taking_work()
        if not taking and consumer is not None:
            # Closing commits what is finished, checkpoints jobs and leaves the group.
            consumer.close(grace_s=grace_s)
            return taking, None
        if taking and consumer is None and new_consumer is not None:
            consumer = new_consumer()
            consumer.start()
        return taking, consumer
