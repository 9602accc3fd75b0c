"""Watch a running pipeline: the topics, the services' probes and the supervisor, together.

A :class:`Monitor` owns the three sources the status view is drawn from: a
:class:`~ringrift.pipeline.tail.TopicTail` feeding a
:class:`~ringrift.pipeline.state.PipelineState` (what the topics say), a
:class:`~ringrift.pipeline.probe.Prober` (readiness, ``/metrics``, the promoter's
pipeline status) and the supervisor's process list; the supervisor's own events go into
the same event log. :meth:`Monitor.rows` turns them into the per-config figures both
views print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ringrift.events.producer import partition_for_key
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED, NODE_STATUS, TOPICS
from ringrift.pipeline.bootstrap import namespaced
from ringrift.pipeline.probe import Prober, ProbeSnapshot
from ringrift.pipeline.settings import CONFIG_KEYS, UpSettings
from ringrift.pipeline.state import ConfigState, LogEntry, PipelineState
from ringrift.pipeline.supervisor import ProcessStatus, SupervisorEvent
from ringrift.pipeline.tail import TopicTail


@dataclass(frozen=True)
class ConfigRow:
    """The figures of one config, as both views print them."""

    state: ConfigState
    positions_per_s: float | None
    pending_samples: float | None
    stage_ages: dict[str, float]
    """Seconds since each stage last produced (from the promoter)."""


class Monitor:
    """The status view's sources for one run.

    Args:
        settings: the run.
        processes: the supervisor's process list now (:meth:`Supervisor.status`).
        bootstrap_servers: the broker.
        token: the promoter's operator token.
    """

    def __init__(self, settings: UpSettings, processes: Callable[[], list[ProcessStatus]], *,
                 bootstrap_servers: str, token: str) -> None:
        self.settings = settings
        self._processes = processes
        self.started_at = datetime.now(UTC)
        self.state = PipelineState()
        self.kafka = KafkaSettings(bootstrap_servers=bootstrap_servers)
        topics = [namespaced(settings, spec) for spec in TOPICS if spec is not NODE_STATUS]
        self.game_topic = namespaced(settings, GAME_COMPLETED)
        self.tail = TopicTail(self.kafka, topics, lambda _spec, event: self.state.apply(event),
                              from_end=[self.game_topic.name],
                              dead_letter_topics=[spec.dlq_name for spec in topics],
                              on_dead_letter=self.state.apply_dead_letter)
        self.prober = Prober(self._ports, host=settings.http_host, token=token)
        self._cpu: dict[str, tuple[float, float]] = {}
        self._cpu_rate: dict[str, float] = {}
        self._counted_before = False

    def start(self) -> Monitor:
        self.tail.start()
        self.prober.start()
        return self

    def close(self) -> None:
        self.prober.close()
        self.tail.close()

    def on_supervisor_event(self, event: SupervisorEvent) -> None:
        """Give the supervisor's events to the event log (pass as its ``on_event``)."""
        self.state.note(LogEntry(event.at, f"service {event.kind}", "",
                                 f"{event.process} {event.kind}: {event.message}"))

    def processes(self) -> list[ProcessStatus]:
        return self._processes()

    def probes(self) -> ProbeSnapshot:
        return self.prober.snapshot()

    def rows(self) -> list[ConfigRow]:
        """Per config: the topics' state with the figures only the services know."""
        self._count_games_before()
        probes = self.probes()
        selfplay = probes.processes.get("selfplay")
        exporter = probes.processes.get("exporter")
        rates = selfplay.metrics.by_label("ringrift_selfplay_positions_per_second", "config") \
            if selfplay else {}
        pending = exporter.metrics.by_label("ringrift_exporter_pending_samples", "config") \
            if exporter else {}
        stages = {item.get("config_key", ""): {
            stage.get("stage", "?"): stage.get("seconds_since") for stage in
            item.get("stages", []) if stage.get("seconds_since") is not None}
            for item in probes.pipeline}
        with self.state.lock:
            keys = sorted(set(self.settings.configs) | set(self.state.configs))
            return [ConfigRow(self.state.config(key), rates.get(key), pending.get(key),
                              stages.get(key, {})) for key in keys]

    def consumer_lag(self) -> dict[str, float]:
        """Records not yet handled, per consumer group (summed over its partitions)."""
        lag: dict[str, float] = {}
        for probe in self.probes().processes.values():
            for group, value in probe.metrics.by_label(
                    "ringrift_events_consumer_lag_records", "group").items():
                lag[group] = lag.get(group, 0.0) + value
        return lag

    def cpu(self) -> dict[str, tuple[float, float | None]]:
        """Per process: CPU seconds used since it started, and its CPU share now (1 = a
        whole core), from ``process_cpu_seconds_total`` of its ``/metrics``."""
        result: dict[str, tuple[float, float | None]] = {}
        for name, probe in self.probes().processes.items():
            used = probe.metrics.total("process_cpu_seconds_total")
            if used is None:
                continue
            before = self._cpu.get(name)
            if before is not None and probe.at > before[1]:
                self._cpu_rate[name] = max(0.0, (used - before[0]) / (probe.at - before[1]))
            if before is None or probe.at > before[1]:
                self._cpu[name] = (used, probe.at)
            result[name] = (used, self._cpu_rate.get(name))
        return result

    def uptime_s(self) -> float:
        return (datetime.now(UTC) - self.started_at).total_seconds()

    def _count_games_before(self) -> None:
        """Games published before the tail started, from the offsets it started at."""
        if self._counted_before or not self.tail.start_offsets:
            return
        with self.state.lock:
            for key in CONFIG_KEYS:
                partition = partition_for_key(self.game_topic, key)
                before = self.tail.start_offsets.get((self.game_topic.name, partition), 0) \
                    if partition is not None else 0
                if before or key in self.settings.configs:
                    self.state.config(key).games_before = before
        self._counted_before = True

    def _ports(self) -> dict[str, int | None]:
        return {status.name: status.port for status in self._processes() if status.up}
