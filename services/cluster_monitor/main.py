"""Wiring of the cluster monitor: ``ringrift service run cluster-monitor --role agent|monitor``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ringrift.events.topics import NODE_STATUS
from ringrift.service.flags import load_settings
from ringrift.service.runtime import ServiceRuntime
from ringrift.storage.artifacts import ArtifactStore, DirectoryArtifactStore
from services.cluster_monitor import handlers
from services.cluster_monitor.pressure import parse_thresholds
from services.cluster_monitor.probe import GpuProbe
from services.cluster_monitor.settings import ClusterMonitorSettings


def disk_path(settings: ClusterMonitorSettings, store: ArtifactStore) -> Path:
    """The directory whose filesystem the agent reports (``--disk-path`` or the store's)."""
    if settings.disk_path:
        return Path(settings.disk_path)
    return store.root if isinstance(store, DirectoryArtifactStore) else Path.cwd()


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings(ClusterMonitorSettings, argv)
    runtime = ServiceRuntime(settings)
    if settings.role == "agent":
        gpus = GpuProbe()
        agent = handlers.Agent(settings.node_id, disk_path(settings, runtime.artifacts),
                               settings.report_every_s, gpus)
        runtime.every(settings.report_every_s, agent.report, name="report")
        try:
            return runtime.run()
        finally:
            gpus.close()
    monitor = handlers.Monitor(handlers.MonitorPolicy(
        parse_thresholds(settings.thresholds), settings.missed_heartbeats,
        settings.refresh_every_s, settings.forget_after_s))
    runtime.consume([NODE_STATUS], monitor.record_report)
    runtime.every(settings.check_every_s, monitor.check_heartbeats, name="heartbeats")
    return runtime.run()


if __name__ == "__main__":
    from ringrift.cli.main import main as ringrift

    sys.exit(ringrift(["service", "run", "cluster-monitor", *sys.argv[1:]]))
