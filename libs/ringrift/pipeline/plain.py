"""The plain output of ``ringrift up --plain`` (and whenever stdout is not a terminal).

One line per event as it happens (services started or died, shards, candidates,
evaluations, promotions, rejections, deferrals, dead letters; ids whole, so a line can
be pasted into ``ringrift events trace``), and every ``summary_every_s`` a summary line
per config. Suited to log files and CI; the live screen is :mod:`ringrift.pipeline.view`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ringrift.pipeline.monitor import Monitor
from ringrift.pipeline.state import LogEntry
from ringrift.pipeline.view import duration, gate_text, interval, log_line


class PlainPrinter:
    """Prints the event log line by line, and a summary now and then.

    Args:
        monitor: the run's sources.
        echo: where lines go (``print`` with flush).
        summary_every_s: seconds between summary lines.
    """

    def __init__(self, monitor: Monitor, echo: Callable[[str], None],
                 summary_every_s: float = 30.0) -> None:
        self._monitor = monitor
        self._echo = echo
        self._every = summary_every_s
        self._next = time.monotonic() + summary_every_s
        self._games: dict[str, int] = {}
        self._lock = threading.Lock()
        with monitor.state.lock:  # what happened before this printer existed, then the rest
            for entry in monitor.state.log:
                self._print_entry(entry)
            monitor.state.listeners.append(self._print_entry)

    def _print_entry(self, entry: LogEntry) -> None:
        with self._lock:
            self._echo(log_line(entry))

    def tick(self) -> None:
        """Print the summary lines if they are due (call every second or so)."""
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self._every
        for line in self.summary():
            with self._lock:
                self._echo(line)

    def summary(self) -> list[str]:
        """One line per config and one for the services."""
        now = datetime.now(UTC).astimezone().strftime("%H:%M:%S")
        lines = []
        for row in self._monitor.rows():
            state = row.state
            before = self._games.get(state.key, state.games)
            self._games[state.key] = state.games
            rating = interval(state.ratings.get(state.current_model)) \
                if state.current_model else "-"
            pos = f"{row.positions_per_s:.0f}" if row.positions_per_s is not None else "-"
            pending = f"{row.pending_samples:.0f}" if row.pending_samples is not None else "-"
            lines.append(
                f"{now} {state.key} games {state.games} (+{state.games - before}) pos/s {pos} "
                f"pending {pending} shards {state.shards} candidates {state.candidates} "
                f"({state.promotions} promoted, {state.rejections} rejected) current "
                f"{state.current_model or 'uniform'} r{state.revision} rating {rating} "
                f"gate {gate_text(state.latest_gate, state.evaluating)}")
        lag = self._monitor.consumer_lag()
        services = ", ".join(f"{status.name} {status.state}"
                             + (f" ({status.restarts} restarts)" if status.restarts else "")
                             for status in self._monitor.processes())
        lag_text = ", ".join(f"{group} {value:.0f}" for group, value in sorted(lag.items()))
        lines.append(f"{now} up {duration(self._monitor.uptime_s())}: {services}; consumer "
                     f"lag {lag_text or '-'}; dead letters "
                     f"{sum(self._monitor.state.dead_letters.values())}")
        return lines
