"""What the agent measures on its node: disk of the artifact volume, memory, CPU, GPUs.

Disk is the filesystem holding the artifact store (the directory of a local store; with
an ``s3://`` store, the working directory, where the artifact cache lives by default;
``--disk-path`` chooses another), measured as the space not available to the services
(``statvfs``'s available blocks, so a filesystem's reserved blocks count as used).
Memory is the node's ``MemAvailable`` (psutil), CPU the 1-minute load average per core.
GPUs are read through NVML (``nvidia-ml-py``) when a driver is present; without one the
node reports no GPUs, and a GPU that stops answering is left out of that report (logged)
rather than stopping the agent.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

from ringrift.events.gen.ops.v1.ops_pb2 import GpuStatus, NodeStatus

log = logging.getLogger(__name__)


def existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest parent that exists (a store's directory may not exist yet)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


class GpuProbe:
    """The node's GPUs through NVML; reports none when NVML or a driver is missing.

    Args:
        nvml: the NVML binding (default ``pynvml`` from nvidia-ml-py; tests of machines
            without a GPU pass a stand-in with the same functions).
    """

    def __init__(self, nvml: ModuleType | None = None) -> None:
        self._nvml: ModuleType | None = None
        try:
            if nvml is None:
                import pynvml as nvml
            nvml.nvmlInit()
            self._nvml = nvml
            log.info("NVML %s: %d GPU(s)", _text(nvml.nvmlSystemGetDriverVersion()),
                     nvml.nvmlDeviceGetCount())
        except Exception as error:  # no driver, no library, no device: a CPU node
            log.info("no GPUs reported (NVML not available: %s)", error)

    @property
    def available(self) -> bool:
        return self._nvml is not None

    def read(self) -> list[GpuStatus]:
        """One status per GPU that answers (memory in bytes, utilisation 0..1)."""
        nvml = self._nvml
        if nvml is None:
            return []
        found = []
        try:
            count = nvml.nvmlDeviceGetCount()
        except Exception as error:
            log.warning("NVML could not count the GPUs: %s", error)
            return []
        for index in range(count):
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                found.append(GpuStatus(index=index, memory_used_bytes=int(memory.used),
                                       memory_total_bytes=int(memory.total),
                                       utilization=float(rates.gpu) / 100.0,
                                       name=_text(nvml.nvmlDeviceGetName(handle))))
            except Exception as error:  # e.g. a GPU fallen off the bus: report the others
                log.warning("GPU %d did not answer NVML: %s", index, error)
        return found

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as error:
                log.debug("nvmlShutdown: %s", error)
            self._nvml = None


def measure(node_id: str, disk_path: Path, interval_s: float, gpus: GpuProbe) -> NodeStatus:
    """One report of this node.

    Raises:
        OSError: the disk path cannot be measured (e.g. removed, or a dead mount).
    """
    disk = shutil.disk_usage(existing_ancestor(disk_path))
    memory = psutil.virtual_memory()
    cores = os.cpu_count() or 1
    status = NodeStatus(
        node_id=node_id, disk_free_bytes=int(disk.free), disk_total_bytes=int(disk.total),
        memory_available_bytes=int(memory.available), memory_total_bytes=int(memory.total),
        cpu_load=os.getloadavg()[0] / cores, gpus=gpus.read(), disk_path=str(disk_path),
        cpu_count=cores, interval_seconds=interval_s)
    status.heartbeat_at.GetCurrentTime()
    return status


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
