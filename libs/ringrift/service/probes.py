"""The runtime's own readiness checks, and the thread that keeps its gauges current.

Readiness of every service: the database answers (within a few seconds), every table
reader has caught up, the consumer loop has joined its group and is not in an outage
(broker or database away), and the relay is not in an outage (committed outputs can go
out). The monitor thread refreshes, every ``lag_interval_s``, the consumer lag per
partition (high watermark minus the next offset to handle) and ``ringrift_service_ready``,
so that Prometheus sees both without calling ``/readyz``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from sqlalchemy import text

from ringrift.service.metrics import HEARTBEAT_AGE, SERVICE_READY
from ringrift.storage.database import session_scope

if TYPE_CHECKING:
    from ringrift.service.runtime import ServiceRuntime

log = logging.getLogger(__name__)
DATABASE_PROBE_TIMEOUT_S = 3.0


def register_checks(runtime: ServiceRuntime) -> None:
    """Add the database, tables, consumer and relay checks to ``runtime``'s health."""
    probe_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-probe")

    def database() -> str | None:
        def ping() -> None:
            # Read-only: on SQLite a writing transaction would wait for the writers' lock.
            with session_scope(runtime.engine, read_only=True) as session:
                session.execute(text("SELECT 1"))
        try:
            probe_pool.submit(ping).result(timeout=DATABASE_PROBE_TIMEOUT_S)
        except FutureTimeout:
            return f"the database did not answer within {DATABASE_PROBE_TIMEOUT_S:g} s"
        except Exception as error:
            return f"the database is unreachable: {str(error).splitlines()[0]}"
        return None

    def tables() -> str | None:
        waiting = [f"{reader.topic.name}: {reader.status()}" for reader in runtime.tables
                   if not reader.caught_up]
        return "; ".join(waiting) or None

    def consumer() -> str | None:
        loop = runtime.consumer  # read once: job routing may swap it meanwhile
        if loop is None:
            return None
        status = loop.status()
        if status.outage is not None:
            return f"outage since {status.outage.since:%H:%M:%S}: {status.outage.reason}"
        if not status.assigned and not status.rebalances:
            return "waiting for the consumer group to assign partitions"
        return None

    def relay() -> str | None:
        status = runtime.relay.status()
        return None if status.outage is None else f"outputs cannot be published: {status.outage}"

    for name, check in (("database", database), ("tables", tables), ("consumer", consumer),
                        ("relay", relay)):
        runtime.health.add_check(name, check)


class Monitor:
    """Refreshes consumer lag and readiness gauges in the background."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        service = runtime.name.name
        HEARTBEAT_AGE.labels(service).set_function(runtime.health.heartbeat.age_s)
        self._ready = SERVICE_READY.labels(service)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        interval = self._runtime.settings.lag_interval_s
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(interval)
        self._ready.set(0)

    def refresh(self) -> None:
        """One refresh: readiness gauge, consumer lag (which sets its own gauge)."""
        runtime = self._runtime
        self._ready.set(1 if runtime.health.readiness().ok else 0)
        loop = runtime.consumer  # read once: job routing may swap it meanwhile
        if loop is not None and loop.status().assigned:
            try:
                loop.consumer_lag()
            except Exception as error:  # the broker is away: readiness says so already
                log.info("consumer lag not refreshed: %s", error)
