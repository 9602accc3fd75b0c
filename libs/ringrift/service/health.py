"""Liveness and readiness of a service: what ``/healthz`` and ``/readyz`` answer.

*Alive* means the processing loop is turning: it beats a :class:`Heartbeat` on every
turn, and ``/healthz`` fails once the last beat is older than the heartbeat timeout,
so an orchestrator restarts a process whose loop hangs (a deadlock, a blocked call).
*Ready* means it can do its work now: every readiness check passes. The runtime
registers its own (broker reachable, partitions assigned, table readers caught up,
database reachable) and a service adds its own (e.g. "a model is loaded") with
:meth:`Health.add_check`. A check returns None when ready, or the reason it is not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], str | None]
"""Returns None when ready, else one line saying why not (what it waits for)."""


class Heartbeat:
    """The time of the processing loop's last turn (thread-safe, monotonic)."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    def age_s(self) -> float:
        return time.monotonic() - self._last


@dataclass(frozen=True)
class Report:
    """The answer of one probe: ok, and each check's result ("ok" or why not)."""

    ok: bool
    checks: dict[str, str]

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.ok else "failing", "checks": self.checks}


class Health:
    """The probes of one service process.

    Args:
        heartbeat_timeout_s: how old the last heartbeat may be for the process to be alive.
    """

    def __init__(self, heartbeat_timeout_s: float) -> None:
        self.heartbeat = Heartbeat()
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._checks: dict[str, ReadinessCheck] = {}
        self._lock = threading.Lock()
        self._stopping = False

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """Add a readiness check under ``name`` (unique; it names the check in /readyz)."""
        with self._lock:
            if name in self._checks:
                raise ValueError(f"a readiness check named {name!r} exists already")
            self._checks[name] = check

    def mark_stopping(self) -> None:
        """Not ready from now on: the process is shutting down (no new traffic)."""
        self._stopping = True

    def liveness(self) -> Report:
        age = self.heartbeat.age_s()
        if age <= self.heartbeat_timeout_s:
            return Report(True, {"heartbeat": f"ok ({age:.1f} s ago)"})
        return Report(False, {"heartbeat": f"the processing loop has not turned for "
                                           f"{age:.0f} s (limit {self.heartbeat_timeout_s:g} s)"})

    def readiness(self) -> Report:
        with self._lock:
            checks = dict(self._checks)
        results: dict[str, str] = {}
        if self._stopping:
            results["shutdown"] = "shutting down"
        for name, check in checks.items():
            try:
                reason = check()
            except Exception as error:  # a broken check says so instead of hiding the rest
                log.warning("readiness check %s failed: %s", name, error, exc_info=True)
                reason = f"the check failed: {type(error).__name__}: {error}"
            results[name] = "ok" if reason is None else reason
        return Report(all(result == "ok" for result in results.values()), results)
