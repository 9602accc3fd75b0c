"""The cluster monitor's metrics: what the agent measured, and what the monitor concluded.

The alert rules (deploy/prometheus) read ``ringrift_cluster_monitor_node_lost{node}``
(0/1) and ``ringrift_cluster_monitor_node_pressure_level{node,resource}`` (0 ok,
1 warning, 2 critical; resource disk, memory, cpu, gpu_memory); the cluster dashboard
also shows the agent's gauges and the deferrals.
"""

from __future__ import annotations

from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeStatus, Pressure
from ringrift.service.cluster import WORK_KINDS
from ringrift.service.metrics import counter, gauge
from services.cluster_monitor.pressure import RESOURCES

SERVICE = "cluster-monitor"
_LEVEL = {Pressure.PRESSURE_OK: 0, Pressure.PRESSURE_ELEVATED: 1, Pressure.PRESSURE_CRITICAL: 2,
          Pressure.PRESSURE_UNSPECIFIED: 0}

# The agent (labels: the node it reports).
DISK_FREE = gauge(SERVICE, "disk_free", "bytes", "Free space of the artifact volume.", ["node"])
DISK_TOTAL = gauge(SERVICE, "disk_size", "bytes", "Size of the artifact volume.", ["node"])
MEMORY_AVAILABLE = gauge(SERVICE, "memory_available", "bytes", "Memory available (MemAvailable).",
                         ["node"])
MEMORY_TOTAL = gauge(SERVICE, "memory_size", "bytes", "The node's memory.", ["node"])
CPU_LOAD = gauge(SERVICE, "cpu_load", "ratio", "1-minute load average per core.", ["node"])
GPU_MEMORY_USED = gauge(SERVICE, "gpu_memory_used", "bytes", "GPU memory in use.",
                        ["node", "gpu"])
GPU_MEMORY_TOTAL = gauge(SERVICE, "gpu_memory_size", "bytes", "GPU memory.", ["node", "gpu"])
GPU_UTILIZATION = gauge(SERVICE, "gpu_utilization", "ratio", "GPU busy fraction (NVML).",
                        ["node", "gpu"])

# The monitor (labels: every node it knows).
NODE_LOST = gauge(SERVICE, "node", "lost", "1 while the node's agent has missed its heartbeats.",
                  ["node"])
PRESSURE_LEVEL = gauge(SERVICE, "node_pressure", "level", "Pressure per node and resource: "
                       "0 ok, 1 warning, 2 critical.", ["node", "resource"])
BATCH_SIZE = gauge(SERVICE, "recommended_batch", "size", "Batch size recommended from the "
                   "node's free GPU memory (0: no GPU).", ["node"])
DEFERRED = gauge(SERVICE, "work", "deferred", "1 while that kind of work is deferred "
                 "everywhere.", ["work"])
STATUSES_PUBLISHED = counter(SERVICE, "statuses_published", "ClusterStatus events published "
                             "(changes and refreshes).")


def export_report(status: NodeStatus) -> None:
    """The agent's gauges from one report."""
    node = status.node_id
    DISK_FREE.labels(node).set(status.disk_free_bytes)
    DISK_TOTAL.labels(node).set(status.disk_total_bytes)
    MEMORY_AVAILABLE.labels(node).set(status.memory_available_bytes)
    MEMORY_TOTAL.labels(node).set(status.memory_total_bytes)
    CPU_LOAD.labels(node).set(status.cpu_load)
    for gpu in status.gpus:
        GPU_MEMORY_USED.labels(node, str(gpu.index)).set(gpu.memory_used_bytes)
        GPU_MEMORY_TOTAL.labels(node, str(gpu.index)).set(gpu.memory_total_bytes)
        GPU_UTILIZATION.labels(node, str(gpu.index)).set(gpu.utilization)


def export_status(status: ClusterStatus) -> None:
    """The monitor's gauges from the status it computed."""
    for health in status.nodes:
        node = health.node_id
        NODE_LOST.labels(node).set(1 if health.lost else 0)
        for resource, level in zip(RESOURCES, (health.disk, health.memory, health.cpu,
                                               health.gpu), strict=True):
            PRESSURE_LEVEL.labels(node, resource).set(_LEVEL[level])
        BATCH_SIZE.labels(node).set(health.recommended_batch_size)
    for work in WORK_KINDS:
        DEFERRED.labels(work).set(1 if work in status.defer else 0)


def forget_node(node: str) -> None:
    """Drop a forgotten node's series."""
    for metric in (NODE_LOST, BATCH_SIZE):
        try:
            metric.remove(node)
        except KeyError:
            pass
    for resource in RESOURCES:
        try:
            PRESSURE_LEVEL.remove(node, resource)
        except KeyError:
            pass
