"""The runtime's hooks for work that is not a consumed event: timers and sources.

A *timer* runs periodic work (flush a partial shard after T seconds, publish a
heartbeat, expire a node): a function of a database session, run in its own
transaction on the processing thread between batches (so it never races a handler
over the service's state), whose returned outputs enter the outbox in that same
transaction. A *source* is the main work of a service that does not consume (selfplay
plays games forever, the node agent reports every few seconds): called again and
again on the processing thread, it does one unit of work (a lockstep batch, one
report) and writes its outputs through :meth:`SourceContext.enqueue` in a transaction
of its own. Both see topics through the runtime's namespace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ringrift.events.envelope import Event
from ringrift.events.outbox import Output, enqueue_many
from ringrift.events.topics import TopicSpec
from ringrift.service.health import Heartbeat
from ringrift.service.metrics import TIMER_FAILURES, TIMER_RUNS
from ringrift.storage.database import session_scope

log = logging.getLogger(__name__)

TimerFunction = Callable[[Session], Iterable[Output] | None]
"""A periodic task: gets a session (its transaction), returns outputs for the outbox."""


class Namespace:
    """Renames registry topics with the runtime's namespace prefix (empty: unchanged)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def topic(self, spec: TopicSpec) -> TopicSpec:
        return replace(spec, name=self.prefix + spec.name) if self.prefix else spec

    def outputs(self, items: Iterable[Any] | None) -> list[Any]:
        """Rename the topic of each output; other items (job requests) pass unchanged."""
        return [(self.topic(item[0]), item[1]) if isinstance(item, tuple) else item
                for item in items or ()]


@dataclass
class Timer:
    """One periodic task and when it is next due (monotonic seconds)."""

    name: str
    interval_s: float
    function: TimerFunction
    due_at: float

    def run_if_due(self, service: str, engine: Engine, namespace: Namespace,
                   now: float) -> int:
        """Run once if due; returns the outputs it enqueued. A failure is logged and
        counted, and the task runs again at its next period."""
        if now < self.due_at:
            return 0
        self.due_at = now + self.interval_s
        TIMER_RUNS.labels(service, self.name).inc()
        try:
            with session_scope(engine) as session:
                outputs = namespace.outputs(self.function(session))
                return enqueue_many(session, outputs)
        except Exception:
            TIMER_FAILURES.labels(service, self.name).inc()
            log.exception("periodic task %s failed; it runs again in %g s", self.name,
                          self.interval_s, extra={"timer": self.name})
            return 0


class SourceContext:
    """What a source gets: the database, the outbox, the heartbeat and a way to stop."""

    def __init__(self, engine: Engine, namespace: Namespace, heartbeat: Heartbeat,
                 stop: Callable[[], None], stopping: Callable[[], bool]) -> None:
        self.engine = engine
        self._namespace = namespace
        self._heartbeat = heartbeat
        self._stop = stop
        self._stopping = stopping

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction on the service's database (commit on success)."""
        with session_scope(self.engine) as session:
            yield session

    def enqueue(self, session: Session, topic: TopicSpec, event: Event[Message]) -> None:
        """Add an output to the outbox in ``session``'s transaction (published after commit)."""
        enqueue_many(session, [(self._namespace.topic(topic), event)])

    def beat(self) -> None:
        """Tell /healthz the source is alive during a long step."""
        self._heartbeat.beat()

    @property
    def stopping(self) -> bool:
        """True once the service is asked to stop: finish the unit in hand and return."""
        return self._stopping()

    def stop(self) -> None:
        """Ask the service to stop gracefully (e.g. after ``--max-games``)."""
        self._stop()


Source = Callable[[SourceContext], int | None]
"""One unit of a source's work; returns how much it did (0 or None: nothing to do now)."""


def next_due(timers: list[Timer], default_s: float) -> float:
    """Seconds until the first timer is due (at most ``default_s``, never below 0)."""
    now = time.monotonic()
    return max(0.0, min([default_s, *(timer.due_at - now for timer in timers)]))
