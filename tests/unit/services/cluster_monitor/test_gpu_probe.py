"""Reading GPUs through NVML.

The real binding is checked on the machine it runs on: no driver, no GPUs; with a driver,
every GPU NVML counts, with its memory and utilisation. The translation of NVML's answers
(bytes, percent -> fraction, names, a GPU that stops answering) is checked against a
stand-in with pynvml's function names and result shapes, since CI has no GPU.
"""

from __future__ import annotations

from types import SimpleNamespace

import pynvml
import pytest

from services.cluster_monitor.pressure import GIB, batch_size_for
from services.cluster_monitor.probe import GpuProbe


class FakeNvml:
    """pynvml's functions the probe calls, answering for two GPUs; the second one fails."""

    NVMLError = pynvml.NVMLError

    def __init__(self) -> None:
        self.shut_down = False

    def nvmlInit(self) -> None:
        pass

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"565.57"

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        if handle == 1:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        return SimpleNamespace(total=141 * GIB, used=21 * GIB, free=120 * GIB)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=87, memory=40)

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "NVIDIA H200"


def test_the_real_binding_reports_the_gpus_there_are() -> None:
    """No driver: no GPUs; a driver (a GPU machine): every GPU with its memory."""
    try:
        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
        pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        count = None
    probe = GpuProbe()
    try:
        gpus = probe.read()
        if count is None:
            assert not probe.available and gpus == []
        else:
            assert probe.available and [gpu.index for gpu in gpus] == list(range(count))
            for gpu in gpus:
                assert 0 <= gpu.memory_used_bytes < gpu.memory_total_bytes, gpu
                assert 0.0 <= gpu.utilization <= 1.0 and gpu.name, gpu
    finally:
        probe.close()


def test_nvmls_answers_become_gpu_statuses_and_a_lost_gpu_is_left_out() -> None:
    fake = FakeNvml()
    probe = GpuProbe(fake)  # type: ignore[arg-type]
    [gpu] = probe.read()
    assert (gpu.index, gpu.name, gpu.utilization) == (0, "NVIDIA H200", pytest.approx(0.87))
    assert (gpu.memory_used_bytes, gpu.memory_total_bytes) == (21 * GIB, 141 * GIB)
    assert batch_size_for([gpu.memory_total_bytes - gpu.memory_used_bytes]) == 512
    probe.close()
    assert fake.shut_down and probe.read() == []
