"""The live status view of ``ringrift up``: a screen redrawn every second or two (rich).

Four parts, top to bottom (the README's "status view" table explains every column):

* the run: uptime, broker, the promoter's URL, where the logs are;
* the services: state, readiness (or the check that fails), restarts, CPU;
* the configs: games, self-play speed, samples waiting for a shard, shards, candidates,
  the current model with its rating and 95% interval, the latest candidate's gate;
* consumer lag per group, dead letters, deferred work, and the event log's last lines,
  each with the id ``ringrift events trace`` takes.

Everything shown comes from :class:`~ringrift.pipeline.monitor.Monitor`; the formatting
helpers are shared with the plain line-per-event output (:mod:`ringrift.pipeline.plain`).
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ringrift.pipeline.monitor import ConfigRow, Monitor
from ringrift.pipeline.state import Gate, LogEntry
from ringrift.pipeline.supervisor import BACKOFF, FAILED, RUNNING, STARTING

LOG_LINES = 10
_STATE_STYLE = {RUNNING: "green", STARTING: "yellow", BACKOFF: "red", FAILED: "bold red"}


def render(monitor: Monitor, promoter_url: str) -> RenderableType:
    """The whole screen, from what the monitor knows now."""
    return Group(_header(monitor, promoter_url), _services(monitor), _configs(monitor),
                 _footer(monitor), _events(monitor))


def duration(seconds: float | None) -> str:
    """``42s``, ``3m07s``, ``2h05m``; ``-`` for None."""
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def short_id(model_id: str, width: int = 18) -> str:
    """A model id cut for a table cell (the event log prints ids whole)."""
    return model_id if len(model_id) <= width else model_id[:width - 1] + "…"


def interval(estimate: tuple[float, float, float] | None, digits: int = 0) -> str:
    """``+312 [+250, +374]`` (Elo) or ``0.71 [0.62, 0.79]`` (score, ``digits`` > 0)."""
    if estimate is None:
        return "-"
    value, low, high = estimate
    if digits:
        return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
    return f"{value:+.0f} [{low:+.0f}, {high:+.0f}]"


def gate_text(gate: Gate | None, evaluating: dict[str, tuple[str, str, int]]) -> str:
    """The latest candidate's gate: running, or its verdict with the statistics."""
    if evaluating:
        model, opponent, max_games = next(iter(evaluating.values()))
        return f"evaluating {short_id(model, 14)} vs {short_id(opponent, 14)} (≤{max_games} g)"
    if gate is None:
        return "-"
    return (f"{gate.verdict} LLR {gate.llr:+.2f} [{gate.llr_lower:+.1f}, {gate.llr_upper:+.1f}]"
            f" {gate.games} g, score {interval(gate.score, 2)}")


def log_line(entry: LogEntry) -> str:
    """One event log line: time, config, text, and how to trace it."""
    at = entry.at.astimezone().strftime("%H:%M:%S") if isinstance(entry.at, datetime) else "?"
    config = f" {entry.config}" if entry.config else ""
    trace = f"  [trace: ringrift events trace {entry.trace_id}]" if entry.trace_id and \
        entry.kind in ("promoted", "rejected", "rolled back", "evaluated") else ""
    return f"{at}{config} {entry.text}{trace}"


def _header(monitor: Monitor, promoter_url: str) -> RenderableType:
    settings = monitor.settings
    return Text.assemble(
        ("RingRift pipeline", "bold"), f"  up {duration(monitor.uptime_s())}  ·  broker "
        f"{monitor.kafka.bootstrap_servers}  ·  promoter {promoter_url}  ·  logs "
        f"{settings.log_dir}  ·  Ctrl-C stops")


def _services(monitor: Monitor) -> RenderableType:
    table = Table(title="services", title_justify="left", expand=True, pad_edge=False)
    for column in ("process", "state", "ready", "restarts", "pid", "port", "CPU now",
                   "CPU s", "note"):
        table.add_column(column, no_wrap=column != "note")
    probes, cpu = monitor.probes().processes, monitor.cpu()
    for status in monitor.processes():
        probe = probes.get(status.name)
        ready = "-" if probe is None or probe.ready is None or not status.up else \
            ("yes" if probe.ready else "no")
        used, share = cpu.get(status.name, (None, None))
        note = status.message or ("; ".join(probe.not_ready)[:80] if probe and status.up
                                  else "")
        table.add_row(status.name, Text(status.state, _STATE_STYLE.get(status.state, "")),
                      ready, str(status.restarts), str(status.pid or "-") if status.up else "-",
                      str(status.port or "-"), f"{share:.0%}" if share is not None else "-",
                      f"{used:.0f}" if used is not None else "-", note)
    return table


def _configs(monitor: Monitor) -> RenderableType:
    table = Table(title="configs", title_justify="left", expand=True, pad_edge=False)
    for column in ("config", "games", "pos/s", "pending", "shards", "cands", "current model",
                   "rating [95%]", "latest candidate: gate", "weight"):
        table.add_column(column, no_wrap=True)
    for row in monitor.rows():
        table.add_row(*_config_cells(row))
    return table


def _config_cells(row: ConfigRow) -> list[str]:
    state = row.state
    current = f"{short_id(state.current_model)} r{state.revision}" if state.current_model \
        else "uniform (none yet)"
    rating = interval(state.ratings.get(state.current_model)) if state.current_model else "-"
    return [state.key, str(state.games),
            f"{row.positions_per_s:.0f}" if row.positions_per_s is not None else "-",
            f"{row.pending_samples:.0f}" if row.pending_samples is not None else "-",
            str(state.shards), f"{state.candidates} ({state.promotions}✓ {state.rejections}✗)",
            current, rating, gate_text(state.latest_gate, state.evaluating),
            f"{state.weight:.2f}" if state.weight is not None else "-"]


def _footer(monitor: Monitor) -> RenderableType:
    lag = monitor.consumer_lag()
    lag_text = "  ".join(f"{group} {value:.0f}" for group, value in sorted(lag.items())) or "-"
    with monitor.state.lock:
        letters = dict(monitor.state.dead_letters)
        deferred = monitor.state.deferred
    letters_text = ", ".join(f"{topic} {count}" for topic, count in sorted(letters.items()))
    probes = monitor.probes()
    lines = [Text.assemble(("consumer lag ", "bold"), lag_text),
             Text.assemble(("dead letters ", "bold"),
                           Text(letters_text, "red") if letters else Text("none"),
                           ("   deferred ", "bold"), ", ".join(deferred) or "nothing")]
    if probes.pipeline_error:
        lines.append(Text(f"promoter status: {probes.pipeline_error}", "yellow"))
    if monitor.tail.status != "following":
        lines.append(Text(f"topics: {monitor.tail.status}", "yellow"))
    return Group(*lines)


def _events(monitor: Monitor) -> RenderableType:
    with monitor.state.lock:
        entries = list(monitor.state.log)[-LOG_LINES:]
    text = Text()
    text.append("events\n", "bold")
    for entry in entries:
        style = {"promoted": "green", "rejected": "yellow", "dead letter": "red",
                 "service died": "red", "service failed": "bold red"}.get(entry.kind, "")
        text.append(log_line(entry) + "\n", style)
    return text
