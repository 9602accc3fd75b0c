"""Run a set of processes, restart the ones that die, stop them all cleanly.

``ringrift up`` starts every service of the pipeline as its own OS process through a
:class:`Supervisor`, and the end-to-end test starts them through the same class. Each
process:

has its own log file, runs in its own session (a Ctrl-C in the terminal reaches only the
supervisor, which then stops the services in order instead of all of them dying at once)
and gets SIGTERM when the supervisor's thread dies (:mod:`ringrift.pipeline.child`).

A process that dies is restarted after a backoff (1 s, doubling up to 60 s; back to 1 s
once it stayed up for 5 minutes), and every start, death and restart is reported to
``on_event``. Two exits are not restarted: status 0 (a bounded run finished) and status 2
(a configuration error: a bad flag or setting, which a restart cannot fix).
:meth:`Supervisor.stop` sends SIGTERM to every process, waits for each one's grace
period and then sends SIGKILL. All spawning happens on the supervisor's own thread, the
one the children's death signal is tied to.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from ringrift.errors import RingriftError
from ringrift.pipeline.child import (
    BACKOFF,
    EXITED,
    FAILED,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    Child,
    ProcessSpec,
    ProcessStatus,
    describe_exit,
)

__all__ = ["BACKOFF", "EXITED", "FAILED", "RUNNING", "STARTING", "STOPPED", "STOPPING",
           "Backoff", "ProcessSpec", "ProcessStatus", "Supervisor", "SupervisorError",
           "SupervisorEvent"]

log = logging.getLogger(__name__)

CONFIGURATION_ERROR = 2
"""The exit status of a process stopped by a configuration error (not restarted)."""
_TICK_S = 0.2


@dataclass(frozen=True)
class Backoff:
    """Delay before a restart: ``initial_s``, doubling per death up to ``max_s``; a process
    that stayed up for ``reset_after_s`` starts over at ``initial_s``."""

    initial_s: float = 1.0
    max_s: float = 60.0
    reset_after_s: float = 300.0

    def delay(self, deaths_in_a_row: int) -> float:
        return min(self.max_s, self.initial_s * 2 ** max(0, deaths_in_a_row - 1))


@dataclass(frozen=True)
class SupervisorEvent:
    """Something that happened to a process: started, died, restarting, failed, stopped."""

    at: datetime
    process: str
    kind: str
    message: str


class SupervisorError(RingriftError):
    """A process could not be started, or did not come up in time."""


class Supervisor:
    """Starts ``specs``, keeps them running, stops them.

    Args:
        specs: the processes, started in this order.
        log_dir: where ``<name>.log`` of each process goes.
        cwd: their working directory (default: this process's).
        on_event: called with each :class:`SupervisorEvent`, from the supervisor's thread.
        backoff: the restart delays.
    """

    def __init__(self, specs: Sequence[ProcessSpec], log_dir: Path, *, cwd: Path | None = None,
                 on_event: Callable[[SupervisorEvent], None] | None = None,
                 backoff: Backoff = Backoff()) -> None:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise SupervisorError(f"process names must be distinct: {names}")
        self.log_dir = Path(log_dir)
        self._cwd = cwd
        self._on_event = on_event
        self._backoff = backoff
        self._children = {spec.name: Child(spec, self.log_dir / f"{spec.name}.log")
                          for spec in specs}
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    # ---- control (any thread) -------------------------------------------------------

    def start(self) -> Supervisor:
        """Start every process (on the supervisor's thread) and return at once."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop every process (SIGTERM, grace period, SIGKILL) and the supervisor's thread."""
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def stop_process(self, name: str, timeout: float | None = None) -> int | None:
        """Stop one process for good (it is not restarted); returns its exit status.

        Raises:
            SupervisorError: no such process, or it was still running after ``timeout``.
        """
        child = self._child(name)
        with self._lock:
            child.wanted = False
            self._lock.notify_all()
            ended = self._lock.wait_for(lambda: child.status.state in (STOPPED, EXITED, FAILED),
                                        timeout)
        if not ended:
            raise SupervisorError(f"{name} was still running {timeout:g} s after SIGTERM")
        return child.status.last_exit

    def status(self) -> list[ProcessStatus]:
        """Every process's status, in start order."""
        with self._lock:
            return [child.status for child in self._children.values()]

    def process(self, name: str) -> ProcessStatus:
        with self._lock:
            return self._child(name).status

    def port(self, name: str, timeout: float = 300.0) -> int:
        """The HTTP port the process announced in its log (waits for it).

        Raises:
            SupervisorError: it failed for good, or announced no port within ``timeout``.
        """
        child = self._child(name)
        with self._lock:
            self._lock.wait_for(lambda: child.status.port is not None
                                or child.status.state in (FAILED, EXITED, STOPPED), timeout)
            status = child.status
        if status.port is None:
            raise SupervisorError(f"{name} announced no HTTP port (state {status.state}"
                                  f"{': ' + status.message if status.message else ''}); "
                                  f"see {status.log_path}")
        return status.port

    def __enter__(self) -> Supervisor:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _child(self, name: str) -> Child:
        try:
            return self._children[name]
        except KeyError:
            raise SupervisorError(f"no process {name!r}; known: "
                                  f"{', '.join(self._children)}") from None

    # ---- the supervisor's thread ------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                for child in self._children.values():
                    self._tend(child, now)
                with self._lock:
                    self._lock.wait(_TICK_S)
        finally:
            self._shutdown()

    def _tend(self, child: Child, now: float) -> None:
        if child.popen is not None:
            code = child.popen.poll()
            if code is None:
                self._watch_running(child, now)
            else:
                self._exited(child, code, now)
        elif child.wanted and child.restart_at is not None and now >= child.restart_at:
            self._spawn(child, now)
        elif not child.wanted and child.status.state == BACKOFF:
            self._update(child, state=STOPPED, message="stopped while waiting to restart")

    def _watch_running(self, child: Child, now: float) -> None:
        if not child.wanted:
            if child.kill_at is None:
                child.signal(signal.SIGTERM)
                child.kill_at = now + child.spec.grace_s
                self._update(child, state=STOPPING)
            elif now >= child.kill_at:
                child.signal(signal.SIGKILL)
                child.kill_at = float("inf")
            return
        if child.status.port is None:
            port = child.announced_port()
            if port is not None:
                self._update(child, state=RUNNING, port=port)
        if child.deaths_in_a_row and now - child.started_mono >= self._backoff.reset_after_s:
            child.deaths_in_a_row = 0

    def _spawn(self, child: Child, now: float) -> None:
        spec, status = child.spec, child.status
        try:
            pid = child.spawn(self._cwd)
        except OSError as error:
            child.popen = None
            self._update(child, state=FAILED, message=f"could not start: {error}")
            self._emit(spec.name, "failed", f"could not start {spec.command[0]}: {error}")
            return
        child.started_mono, child.restart_at, child.kill_at = now, None, None
        restarts = status.restarts + (1 if status.pid is not None else 0)
        self._update(child, state=STARTING, pid=pid, port=None, restarts=restarts,
                     started_at=datetime.now(UTC), message="")
        self._emit(spec.name, "started", f"pid {pid}, log {status.log_path}")

    def _exited(self, child: Child, code: int, now: float) -> None:
        child.popen = None
        how = describe_exit(code)
        if not child.wanted:
            self._update(child, state=STOPPED, last_exit=code)
            self._emit(child.spec.name, "stopped", how)
        elif code == 0:
            self._update(child, state=EXITED, last_exit=code)
            self._emit(child.spec.name, "exited", f"{how}: finished; not restarted")
        elif code == CONFIGURATION_ERROR:
            reason = child.last_error_line()
            self._update(child, state=FAILED, last_exit=code, message=reason)
            self._emit(child.spec.name, "failed", f"configuration error, not restarted: "
                       f"{reason} (log {child.status.log_path})")
        else:
            child.deaths_in_a_row += 1
            delay = self._backoff.delay(child.deaths_in_a_row)
            child.restart_at = now + delay
            self._update(child, state=BACKOFF, last_exit=code,
                         message=f"{how}; restart in {delay:g} s")
            self._emit(child.spec.name, "died", f"{how}; restarting in {delay:g} s "
                       f"(log {child.status.log_path})")

    def _shutdown(self) -> None:
        """SIGTERM to every live process, then SIGKILL to those past their grace period."""
        running = [child for child in self._children.values() if child.popen is not None]
        for child in self._children.values():
            child.wanted = False
            if child.popen is None and child.status.state == BACKOFF:
                self._update(child, state=STOPPED)
        now = time.monotonic()
        for child in running:
            if child.kill_at is None:
                child.signal(signal.SIGTERM)
                child.kill_at = now + child.spec.grace_s
                self._update(child, state=STOPPING)
        while running:
            now = time.monotonic()
            for child in list(running):
                assert child.popen is not None
                code = child.popen.poll()
                if code is not None:
                    self._exited(child, code, now)
                    running.remove(child)
                elif child.kill_at is not None and now >= child.kill_at:
                    child.signal(signal.SIGKILL)
                    self._emit(child.spec.name, "killed",
                               f"still running {child.spec.grace_s:g} s after SIGTERM: SIGKILL")
                    child.kill_at = float("inf")
            time.sleep(0.05)

    # ---- helpers -------------------------------------------------------------------

    def _update(self, child: Child, **changes: object) -> None:
        with self._lock:
            child.status = replace(child.status, **changes)  # type: ignore[arg-type]
            self._lock.notify_all()

    def _emit(self, process: str, kind: str, message: str) -> None:
        log.debug("%s %s: %s", process, kind, message)
        if self._on_event is not None:
            try:
                self._on_event(SupervisorEvent(datetime.now(UTC), process, kind, message))
            except Exception:  # a broken view must not stop the supervision
                log.exception("supervisor event callback failed")

