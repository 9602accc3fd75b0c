"""One supervised child process: how it is started, signalled and read.

A :class:`Child` is started with its own log file (appended across restarts, each start
marked by a line), in a session of its own (a Ctrl-C in the terminal reaches only the
supervisor) and with Linux's parent-death signal set to SIGTERM (a supervisor killed
with SIGKILL leaves no orphan holding ports and database locks). Signals go to its whole
session, so its own children go with it. It finds the HTTP port the service runtime
announces in its log (``serving HTTP on ...``) and, for a process that stopped with a
configuration error, the line of its log that says why. The restart policy is the
supervisor's (:mod:`ringrift.pipeline.supervisor`).
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

_LISTENING = re.compile(rb"serving HTTP on http://[^:\s]+:(\d+)")

STARTING, RUNNING, BACKOFF, STOPPING, STOPPED, EXITED, FAILED = (
    "starting", "running", "backoff", "stopping", "stopped", "exited", "failed")
"""Process states: up (starting until its HTTP port is known, running), waiting to be
restarted (backoff), being stopped, stopped by the supervisor, exited by itself with
status 0, failed for good (a configuration error)."""


@dataclass(frozen=True)
class ProcessSpec:
    """One process of the pipeline.

    Attributes:
        name: what the supervisor, its log file and the status view call it.
        command: the program and its arguments.
        env: its whole environment.
        grace_s: seconds it is given between SIGTERM and SIGKILL.
    """

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    grace_s: float = 25.0


@dataclass(frozen=True)
class ProcessStatus:
    """A snapshot of one process, as the status view shows it."""

    name: str
    state: str
    pid: int | None
    restarts: int
    log_path: Path
    port: int | None = None
    started_at: datetime | None = None
    last_exit: int | None = None
    """The exit status of its last death (negative: killed by that signal)."""
    message: str = ""

    @property
    def up(self) -> bool:
        return self.state in (STARTING, RUNNING)


class Child:
    """A process and the supervisor's bookkeeping of it (used by the supervisor's thread
    only, except :attr:`status`, which is replaced whole under the supervisor's lock)."""

    def __init__(self, spec: ProcessSpec, log_path: Path) -> None:
        self.spec = spec
        self.popen: subprocess.Popen[bytes] | None = None
        self.log_offset = 0
        self.started_mono = 0.0
        self.deaths_in_a_row = 0
        self.restart_at: float | None = 0.0  # due at once
        self.kill_at: float | None = None
        self.wanted = True
        self.status = ProcessStatus(spec.name, STARTING, None, 0, log_path)

    def spawn(self, cwd: Path | None) -> int:
        """Start the process, appending to its log; returns its pid.

        Raises:
            OSError: the program could not be started.
        """
        spec = self.spec
        with self.status.log_path.open("ab") as log_file:
            log_file.write(f"\n=== ringrift up: starting {spec.name} at "
                           f"{datetime.now(UTC).isoformat(timespec='seconds')}: "
                           f"{' '.join(spec.command)}\n".encode())
            self.log_offset = log_file.tell()
            self.popen = subprocess.Popen(
                list(spec.command), env=dict(spec.env), cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_DIE_WITH_PARENT)
        return self.popen.pid

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the process's whole session (its own children too)."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def announced_port(self) -> int | None:
        """The HTTP port of this start's ``serving HTTP on`` line, once it is written."""
        found = _LISTENING.search(self._log_since_start())
        return int(found.group(1)) if found else None

    def last_error_line(self) -> str:
        """The last line of this start's log that names an error (else its last line)."""
        lines = [line.strip() for line in self._log_since_start().decode(errors="replace")
                 .splitlines() if line.strip()]
        for line in reversed(lines):
            if "error" in line.lower():
                return line[-300:]
        return lines[-1][-300:] if lines else "no output"

    def _log_since_start(self) -> bytes:
        try:
            with self.status.log_path.open("rb") as log_file:
                log_file.seek(self.log_offset)
                return log_file.read()
        except OSError:
            return b""


def describe_exit(code: int) -> str:
    """``exit status 3`` or ``killed by SIGKILL``."""
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _death_signal() -> Callable[[], None] | None:
    """A preexec function asking Linux to SIGTERM the child when its parent thread dies.

    Resolved once here: the function that runs between fork and exec makes one foreign
    call and nothing else (no imports, no locks).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


_DIE_WITH_PARENT = _death_signal()
