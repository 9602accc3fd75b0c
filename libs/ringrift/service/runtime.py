"""The one service runtime: what every service's ``main.py`` wires its handlers into.

``settings -> runtime -> handlers``::

    settings = load_settings(ExampleSettings, argv)
    runtime = ServiceRuntime(settings)           # logging, database (schema checked), store
    models = runtime.table(MODEL_CURRENT)        # current values, caught up before work
    cluster = runtime.cluster(route=True)        # cluster health; step aside when critical
    runtime.consume([GAME_COMPLETED], handlers.count_game)
    runtime.every(60, handlers.report, name="report")
    return runtime.run()                         # HTTP, loop, SIGTERM; the exit code

On :meth:`ServiceRuntime.run` the HTTP server starts (``/healthz``, ``/readyz``,
``/metrics``, and routes added to :attr:`ServiceRuntime.app`), the table readers catch
up, and only then does work begin, so handlers never see a half-read table. The
processing thread then turns: poll the consumer loop (or call the source), run due
timers, beat the heartbeat, until SIGTERM, ``--max-events`` or ``--exit-when-idle``.
With job routing (:mod:`ringrift.service.routing`) each turn first asks the cluster view
whether this node takes work; while it does not, the consumer loop is closed (the group
moves its partitions to healthy replicas) and the source is not called.
Stopping finishes or checkpoints the work in hand (jobs are cancelled cooperatively),
lets the relay publish committed outputs, commits offsets and leaves the group, within
the grace period; past it the process exits with status 1.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from google.protobuf.message import Message
from sqlalchemy.orm import Session

from ringrift import __version__
from ringrift.errors import ConfigurationError
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.envelope import Event
from ringrift.events.jobs import JobFunction
from ringrift.events.relay import OutboxRelay
from ringrift.events.table import Rule, TableReader
from ringrift.events.topics import CLUSTER_STATUS, TopicSpec
from ringrift.service import probes
from ringrift.service.cluster import STATUS_KEY, ClusterView
from ringrift.service.flags import effective_settings
from ringrift.service.health import Health, ReadinessCheck
from ringrift.service.hooks import Namespace, Source, SourceContext, Timer, TimerFunction, next_due
from ringrift.service.http import HttpServer
from ringrift.service.metrics import SERVICE_INFO
from ringrift.service.routing import HealthRouter
from ringrift.service.settings import ServiceSettings
from ringrift.storage.database import make_engine, wait_for_database
from ringrift.storage.migrations import check_at_head
from ringrift.telemetry.logging import configure_logging

log = logging.getLogger(__name__)
Handler = Callable[[Event[Any], Session], Iterable[Any] | None]
"""A consumer handler: the decoded event and its transaction's session in; outputs
``(topic, event)`` and job requests out (see :mod:`ringrift.events.consumer`)."""
FORCED_EXIT = 1
"""Exit status when the grace period ran out before the shutdown finished."""


class ServiceRuntime:
    """Everything a service process needs around its handlers.

    Args:
        settings: the service's settings (see :func:`ringrift.service.flags.load_settings`).

    Raises:
        SchemaOutOfDate: the service's database is not at the newest revision.
        DatabaseUnavailable: the database did not answer at start.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.name = settings.service_name()
        configure_logging(settings.log.level, settings.log.json_lines)
        log.info("starting %s %s with settings %s", self.name.name, __version__,
                 effective_settings(settings))
        wait_for_database(settings.database_url, timeout_s=30)
        check_at_head(settings.database_url, self.name.name)
        self.engine = make_engine(settings.database_url)
        self.artifacts = settings.artifacts.open()
        self.health = Health(settings.heartbeat_timeout_s)
        self.http = HttpServer(self.health, settings.http_host, settings.http_port,
                               title=f"ringrift {self.name.name}")
        self.namespace = Namespace(settings.topic_prefix())
        self.relay = OutboxRelay(self.engine, settings.kafka, client_id=self.name.name)
        self.tables: list[TableReader[Any]] = []
        self.consumer: ConsumerLoop | None = None
        """The consumer loop now; None before consume() and while stepped aside (routing)."""
        self._new_consumer: Callable[[], ConsumerLoop] | None = None
        self._cluster: ClusterView | None = None
        self._router: HealthRouter | None = None
        self._timers: list[Timer] = []
        self._source: Source | None = None
        self._stop = threading.Event()
        self._watchdog: threading.Timer | None = None
        self._events = 0
        probes.register_checks(self)

    # ---- wiring (before run) ---------------------------------------------------------

    @property
    def app(self) -> FastAPI:
        """The HTTP app: add REST routes here (they share the port with the probes)."""
        return self.http.app

    def topic(self, spec: TopicSpec) -> TopicSpec:
        """``spec`` as this process names it (with the topic namespace, if any)."""
        return self.namespace.topic(spec)

    def table(self, spec: TopicSpec, *, is_newer: Rule | None = None) -> TableReader[Any]:
        """A reader of the compacted topic ``spec``; work starts once it is caught up."""
        reader: TableReader[Any] = TableReader(self.settings.kafka, self.topic(spec),
                                               is_newer=is_newer)
        self.tables.append(reader)
        return reader

    def consume(self, topics: Sequence[TopicSpec], handler: Handler, *,
                jobs: Mapping[str, JobFunction] | None = None) -> None:
        """Handle ``topics`` as the service's consumer group (one call per service)."""
        if self._new_consumer is not None:
            raise ConfigurationError("consume() was called twice: one consumer loop per "
                                     "service; give it every topic and one handler")
        namespace = self.namespace

        def handle(event: Event[Message], session: Session) -> Iterable[Any]:
            return namespace.outputs(handler(event, session))

        def wrap(job: JobFunction) -> JobFunction:
            return lambda context: namespace.outputs(job(context))

        def new_consumer() -> ConsumerLoop:  # again after stepping aside (job routing)
            return ConsumerLoop(
                self.settings.kafka, service=self.name.name, group=self.settings.consumer_group,
                topics=[self.topic(spec) for spec in topics],
                handler=handle if namespace.prefix else handler,
                engine=self.engine, relay=self.relay,
                jobs={kind: wrap(job) if namespace.prefix else job
                      for kind, job in (jobs or {}).items()},
                instance_id=self.settings.instance_id or None, service_version=__version__)

        self._new_consumer = new_consumer
        self.consumer = new_consumer()

    def cluster(self, *, route: bool = False) -> ClusterView:
        """The cluster view of this node (``--node-id``): "defer X?", "critical or lost?",
        the recommended batch size. ``route=True``: job routing (:mod:`.routing`)."""
        if self._cluster is None:
            reader = self.table(CLUSTER_STATUS)
            self._cluster = ClusterView(lambda: reader.get(STATUS_KEY), self.settings.node_id)
        if route and self._router is None:
            self._router = HealthRouter(self._cluster, self.name.name)
        return self._cluster

    def every(self, seconds: float, function: TimerFunction, *, name: str) -> None:
        """Run ``function(session)`` every ``seconds``; its outputs go through the outbox."""
        if seconds <= 0:
            raise ConfigurationError(f"timer {name!r}: the period must be > 0 s, not {seconds}")
        self._timers.append(Timer(name, seconds, function, time.monotonic() + seconds))

    def source(self, source: Source) -> None:
        """Make ``source`` the service's main work (called repeatedly; see hooks)."""
        self._source = source

    def ready_when(self, name: str, check: ReadinessCheck) -> None:
        """Add a readiness check: None when ready, else why not (e.g. "no model yet")."""
        self.health.add_check(name, check)

    def enqueue(self, session: Session, topic: TopicSpec, event: Event[Message]) -> None:
        """Add an output to the outbox in ``session``'s transaction (REST handlers, tools)."""
        from ringrift.events.outbox import enqueue_many

        enqueue_many(session, [(self.topic(topic), event)])

    def stop(self) -> None:
        """Ask the service to stop gracefully (thread-safe; SIGTERM calls it)."""
        if not self._stop.is_set():
            self._stop.set()
            self.health.mark_stopping()
            self._watchdog = threading.Timer(self.settings.grace_period_s,
                                             self._grace_exceeded)
            self._watchdog.daemon = True
            self._watchdog.start()
        if self.consumer is not None:
            self.consumer.stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ---- running -----------------------------------------------------------------------

    def run(self) -> int:
        """Serve, work until stopped, shut down; returns the process's exit status (0)."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._on_signal)
        SERVICE_INFO.labels(self.name.name, __version__).set(1)
        monitor = probes.Monitor(self)
        try:
            self.http.start()
            monitor.start()
            self.relay.start()
            for reader in self.tables:
                reader.start()
            if self._wait_for_tables():
                if self._route() and self.consumer is not None:
                    self.consumer.start()
                self._turn_until_stopped()
        finally:
            self._shutdown(monitor)
        log.info("stopped after %d event(s)", self._events)
        return 0

    def _wait_for_tables(self) -> bool:
        while not all(reader.caught_up for reader in self.tables):
            self.health.heartbeat.beat()
            if self._stop.wait(0.1):
                return False
        return True

    def _turn_until_stopped(self) -> None:
        settings, idle_since = self.settings, time.monotonic()
        context = SourceContext(self.engine, self.namespace, self.health.heartbeat, self.stop,
                                lambda: self._stop.is_set())
        while not self._stop.is_set():
            self.health.heartbeat.beat()
            work = 0
            taking_work = self._route()
            if self.consumer is not None:
                timeout = 0.0 if self._source else next_due(self._timers, 0.5)
                handled = self.consumer.poll_once(timeout)
                self._events += handled
                work += handled
            if self._source is not None and not self._stop.is_set():
                work += int(self._source(context) or 0) if taking_work else 0
                if not work:
                    # Nothing to do for the source now: wait a little instead of spinning.
                    self._stop.wait(next_due(self._timers, 0.1))
            elif self.consumer is None:
                self._stop.wait(next_due(self._timers, 0.5))
            now = time.monotonic()
            for timer in self._timers:
                work += timer.run_if_due(self.name.name, self.engine, self.namespace, now)
            if settings.max_events is not None and self._events >= settings.max_events:
                log.info("handled %d event(s) (--max-events): stopping", self._events)
                self.stop()
            if work or self._busy():
                idle_since = now
            elif settings.exit_when_idle is not None and \
                    now - idle_since >= settings.exit_when_idle:
                log.info("idle for %g s (--exit-when-idle): stopping", settings.exit_when_idle)
                self.stop()

    def _route(self) -> bool:
        """Job routing: whether to take work now (steps aside or rejoins as that changes)."""
        if self._router is None:
            return True
        taking, self.consumer = self._router.route(self.consumer, self._new_consumer,
                                                   self.settings.grace_period_s)
        return taking

    def _busy(self) -> bool:
        """Work in hand that is not a finished record: the group not joined yet, jobs
        running, records waiting behind a retry or an outage, outputs not yet published.
        ``--exit-when-idle`` waits for all of it."""
        if self.consumer is not None:
            status = self.consumer.status()
            if not (status.assigned or status.rebalances) or status.jobs or \
                    status.records_in_hand or status.outage is not None:
                return True
        return self.relay.status().backlog > 0

    def _shutdown(self, monitor: probes.Monitor) -> None:
        self.health.mark_stopping()
        deadline = time.monotonic() + self.settings.grace_period_s
        try:
            if self.consumer is not None:
                self.consumer.close(grace_s=max(0.0, deadline - time.monotonic() - 1))
            self.relay.stop(timeout_s=max(0.5, deadline - time.monotonic() - 0.5))
        finally:
            for reader in self.tables:
                reader.close()
            monitor.stop()
            self.http.stop()
            self.engine.dispose()
            if self._watchdog is not None:  # done in time: the process must not be cut short
                self._watchdog.cancel()

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stop.is_set():
            log.warning("%s again: already stopping (grace %g s)", signal.Signals(signum).name,
                        self.settings.grace_period_s)
            return
        log.info("%s: finishing the work in hand, then stopping (grace %g s)",
                 signal.Signals(signum).name, self.settings.grace_period_s)
        self.stop()

    def _grace_exceeded(self) -> None:
        log.error("the shutdown took longer than the grace period (%g s): exiting now; "
                  "committed work is kept, the rest is redone after the restart",
                  self.settings.grace_period_s)
        logging.shutdown()
        os._exit(FORCED_EXIT)
