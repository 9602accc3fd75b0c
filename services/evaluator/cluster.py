"""How the evaluator reads the cluster status: whether evaluation must wait now.

The cluster monitor publishes ``ClusterStatus`` (compacted, key ``all``); while its
``defer`` list names ``evaluation`` no new match is started and a running one pauses
between batches (its games so far are stored; nothing is lost by waiting).
"""

from __future__ import annotations

from collections.abc import Callable

from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus

EVALUATION = "evaluation"
"""The work name the cluster monitor lists in ``ClusterStatus.defer`` to hold evaluation."""


def evaluation_hold(status_of: Callable[[str], ClusterStatus | None]) -> Callable[[], str | None]:
    """A function giving why evaluation must wait now, or None (``status_of``: a table's value)."""
    def hold() -> str | None:
        status = status_of("all")
        if status is not None and EVALUATION in status.defer:
            return f"the cluster status defers {EVALUATION} (overall pressure " \
                   f"{status.overall})"
        return None
    return hold
