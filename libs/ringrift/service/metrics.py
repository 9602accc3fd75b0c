"""Prometheus metrics of services: the naming helper, and what the runtime itself reports.

Service metrics are named ``ringrift_<service>_<what>_<unit>`` (the module spelling of
the service: ``ringrift_cluster_monitor_...``); counters end in ``_total`` (added by
the client library), e.g. ``ringrift_exporter_games_stored_total`` or
``ringrift_trainer_rejected_training_seconds_total``. Declare them through
:func:`counter`, :func:`gauge` and :func:`histogram` so that names stay uniform; a
repeated declaration (a test importing a module twice, two runtimes in one test
process) returns the metric already registered. The backbone's metrics
(``ringrift_events_*``: published, consumed, dead-lettered, handling lag, consumer lag)
live in :mod:`ringrift.events.metrics`; every service exposes them on ``/metrics`` too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from ringrift.service.names import ServiceName

_PART = re.compile(r"[a-z][a-z0-9_]*")
_declared: dict[str, MetricWrapperBase] = {}
_lock = threading.Lock()
T = TypeVar("T", bound=MetricWrapperBase)

SERVICE_INFO = Gauge("ringrift_service_info", "1 for the running service, labelled with its "
                     "version.", ["service", "version"])
SERVICE_READY = Gauge("ringrift_service_ready", "1 while /readyz passes, else 0.", ["service"])
HEARTBEAT_AGE = Gauge("ringrift_service_heartbeat_age_seconds",
                      "Seconds since the processing loop last turned.", ["service"])
TAKING_WORK = Gauge("ringrift_service_taking_work", "1 while the service takes new work; 0 "
                    "while it steps aside because the cluster monitor reports its node "
                    "critical or lost (job routing).", ["service"])
TIMER_RUNS = Counter("ringrift_service_timer_runs_total", "Runs of each periodic task.",
                     ["service", "timer"])
TIMER_FAILURES = Counter("ringrift_service_timer_failures_total",
                         "Runs of each periodic task that raised (retried at the next period).",
                         ["service", "timer"])


def metric_name(service: str, what: str, unit: str = "") -> str:
    """``ringrift_<service>_<what>[_<unit>]`` after checking each part is snake_case.

    Raises:
        ValueError: a part is not lower snake_case, or the unit is ``total`` (counters get
            it by themselves).
    """
    for part, label in ((what, "what"), (unit, "unit")):
        if part and not _PART.fullmatch(part):
            raise ValueError(f"metric {label} {part!r} must be lower snake_case")
    if unit == "total" or what.endswith("_total"):
        raise ValueError("do not name a counter's _total: counter() adds it")
    return ServiceName.parse(service).metric_prefix + what + (f"_{unit}" if unit else "")


def counter(service: str, what: str, documentation: str, labels: Sequence[str] = (),
            unit: str = "") -> Counter:
    """A counter ``ringrift_<service>_<what>[_<unit>]_total``."""
    return _declare(Counter, metric_name(service, what, unit), documentation, labels)


def gauge(service: str, what: str, unit: str, documentation: str,
          labels: Sequence[str] = ()) -> Gauge:
    """A gauge ``ringrift_<service>_<what>_<unit>`` (a unit is required: seconds, bytes,
    samples, ratio, ...)."""
    if not unit:
        raise ValueError(f"gauge {what!r} needs a unit (seconds, bytes, samples, ratio, ...)")
    return _declare(Gauge, metric_name(service, what, unit), documentation, labels)


def histogram(service: str, what: str, unit: str, documentation: str,
              labels: Sequence[str] = (), buckets: Sequence[float] | None = None) -> Histogram:
    """A histogram ``ringrift_<service>_<what>_<unit>``."""
    if not unit:
        raise ValueError(f"histogram {what!r} needs a unit (seconds, bytes, ...)")
    extra: dict[str, Any] = {"buckets": tuple(buckets)} if buckets else {}
    return _declare(Histogram, metric_name(service, what, unit), documentation, labels, **extra)


def _declare(kind: type[T], name: str, documentation: str, labels: Sequence[str],
             **extra: Any) -> T:
    with _lock:
        existing = _declared.get(name)
        if existing is not None:
            if type(existing) is not kind or tuple(existing._labelnames) != tuple(labels):
                raise ValueError(f"metric {name} is declared already as "
                                 f"{type(existing).__name__}{tuple(existing._labelnames)}")
            return existing  # type: ignore[return-value]
        metric = kind(name, documentation, list(labels), **extra)
        _declared[name] = metric
        return metric
