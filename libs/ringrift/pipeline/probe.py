"""Ask the running services how they are: ``/readyz``, ``/metrics``, the promoter's REST.

A :class:`Prober` polls, from its own thread, every process whose HTTP port the
supervisor knows: readiness (and why not), the Prometheus metrics it exposes, and the
promoter's pipeline status (``GET /api/v1/configs`` with the run's operator token). The
view reads :meth:`Prober.snapshot`; a service that does not answer is simply shown as
not answering. :class:`Metrics` picks values out of a scrape by name and labels.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Metrics:
    """One scrape of one process."""

    samples: tuple[Sample, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Metrics:
        return cls(tuple(Sample(sample.name, dict(sample.labels), float(sample.value))
                         for family in text_string_to_metric_families(text)
                         for sample in family.samples))

    def select(self, name: str, **labels: str) -> list[Sample]:
        return [sample for sample in self.samples if sample.name == name
                and all(sample.labels.get(key) == value for key, value in labels.items())]

    def total(self, name: str, **labels: str) -> float | None:
        """The sum of the matching samples; None when there is none."""
        found = self.select(name, **labels)
        return sum(sample.value for sample in found) if found else None

    def by_label(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """Matching samples summed per value of ``label``."""
        result: dict[str, float] = {}
        for sample in self.select(name, **labels):
            key = sample.labels.get(label, "")
            result[key] = result.get(key, 0.0) + sample.value
        return result


@dataclass(frozen=True)
class ProcessProbe:
    """What one process answered at its last probe."""

    ready: bool | None = None
    """None: it did not answer."""
    not_ready: tuple[str, ...] = ()
    """The readiness checks that fail, with their reasons."""
    metrics: Metrics = field(default_factory=Metrics)
    at: float = 0.0


@dataclass(frozen=True)
class ProbeSnapshot:
    processes: dict[str, ProcessProbe]
    pipeline: tuple[dict[str, Any], ...] = ()
    """The promoter's pipeline status per config (empty while it does not answer)."""
    pipeline_error: str = ""


class Prober:
    """Polls every ``interval_s`` the processes ``ports()`` names (name -> port or None).

    Args:
        ports: the processes and their ports now (from the supervisor).
        host: where they listen.
        token: bearer token for the promoter's REST API.
        interval_s: seconds between two rounds.
    """

    def __init__(self, ports: Callable[[], dict[str, int | None]], *, host: str = "127.0.0.1",
                 token: str = "", interval_s: float = 2.0) -> None:
        self._ports = ports
        self._host = host
        self._token = token
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._snapshot = ProbeSnapshot({})
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prober", daemon=True)
        self._client = httpx.Client(timeout=3.0)

    def start(self) -> Prober:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self._client.close()

    def snapshot(self) -> ProbeSnapshot:
        with self._lock:
            return self._snapshot

    def probe_now(self) -> ProbeSnapshot:
        """One round at once (tests, the last figures at the end of a run)."""
        ports = self._ports()
        processes = {name: self._probe(port) if port else ProcessProbe()
                     for name, port in ports.items()}
        pipeline, error = self._pipeline(ports.get("promoter"))
        snapshot = ProbeSnapshot(processes, pipeline, error)
        with self._lock:
            self._snapshot = snapshot
        return snapshot

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self.probe_now()
            except Exception:  # the view goes on with the last answers
                log.exception("probing the services failed")
            self._closed.wait(self._interval_s)

    def _probe(self, port: int) -> ProcessProbe:
        base = f"http://{self._host}:{port}"
        try:
            ready = self._client.get(f"{base}/readyz")
            metrics = self._client.get(f"{base}/metrics")
        except httpx.HTTPError:
            return ProcessProbe(at=time.monotonic())
        failing = _failing_checks(ready)
        return ProcessProbe(ready.status_code == 200, failing,
                            Metrics.parse(metrics.text) if metrics.status_code == 200
                            else Metrics(), time.monotonic())

    def _pipeline(self, port: int | None) -> tuple[tuple[dict[str, Any], ...], str]:
        if not port:
            return (), "the promoter is not up"
        try:
            answer = self._client.get(f"http://{self._host}:{port}/api/v1/configs",
                                      headers={"Authorization": f"Bearer {self._token}"})
        except httpx.HTTPError as error:
            return (), f"the promoter did not answer: {error}"
        if answer.status_code != 200:
            return (), f"the promoter answered {answer.status_code}: {answer.text[:200]}"
        body = answer.json()
        configs = body.get("configs", []) if isinstance(body, dict) else body
        return tuple(item for item in configs if isinstance(item, dict)), ""


def _failing_checks(response: httpx.Response) -> tuple[str, ...]:
    """The failing checks of a ``/readyz`` answer (``{"checks": {name: "ok" | reason}}``)."""
    if response.status_code == 200:
        return ()
    try:
        checks = response.json().get("checks", {})
    except (ValueError, AttributeError):
        return (response.text[:120],)
    return tuple(f"{name}: {reason}" for name, reason in checks.items() if reason != "ok")
