"""Settings of the cluster monitor (env ``RINGRIFT_CLUSTER_MONITOR_*``; ``--help`` lists them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ringrift.errors import ConfigurationError
from ringrift.service.settings import ServiceSettings
from services.cluster_monitor.pressure import parse_thresholds


class ClusterMonitorSettings(ServiceSettings):
    """The cluster monitor: an agent on every node reports its disk, memory, CPU and GPUs;
    the monitor turns the reports into pressure levels, lost nodes, deferrals and batch
    sizes (ClusterStatus)."""

    service = "cluster-monitor"

    role: Literal["agent", "monitor"]
    """agent: report this node (one per node, e.g. a DaemonSet); monitor: publish the
    cluster status from the agents' reports (run one)."""

    # ---- agent ----
    report_every_s: float = Field(default=5.0, gt=0)
    """agent: seconds between two reports of this node."""
    disk_path: str = ""
    """agent: the directory whose filesystem is the node's disk; default: the artifact
    store's directory (with an s3:// store: the working directory)."""

    # ---- monitor ----
    missed_heartbeats: int = Field(default=4, ge=1)
    """monitor: a node is lost after this many report periods without a report."""
    refresh_every_s: float = Field(default=10.0, gt=0)
    """monitor: republish the status at least this often (readers treat one older than
    three periods as unknown); changes are published at once."""
    check_every_s: float = Field(default=1.0, gt=0)
    """monitor: how often heartbeats are checked for lost nodes."""
    forget_after_s: float = Field(default=86_400.0, gt=0)
    """monitor: a node lost for this long is dropped from the status (e.g. removed)."""
    thresholds: list[str] = Field(default_factory=list)
    """monitor: overrides of the pressure thresholds, resource=warning:critical[:margin]
    (fractions; cpu: load per core; critical '-' = never), e.g. disk=0.80:0.90. Defaults
    and meaning: services/cluster_monitor/pressure.py."""

    @field_validator("thresholds")
    @classmethod
    def _check_thresholds(cls, value: list[str]) -> list[str]:
        try:
            parse_thresholds(value)
        except ConfigurationError as error:  # as a ValueError, the message names env and flag
            raise ValueError(str(error)) from None
        return value
