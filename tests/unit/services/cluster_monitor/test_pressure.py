"""Pressure levels with hysteresis, the threshold overrides, deferrals and batch sizes."""

from __future__ import annotations

import pytest

from ringrift.errors import ConfigurationError
from ringrift.service.cluster import EVALUATION, SELFPLAY, TRAINING
from services.cluster_monitor.pressure import (
    DEFAULT_THRESHOLDS,
    GIB,
    Level,
    Threshold,
    batch_size_for,
    deferrals,
    parse_thresholds,
)

DISK = Threshold(0.85, 0.92, 0.03)


def walk(threshold: Threshold, values: list[float]) -> list[Level]:
    level, seen = Level.OK, []
    for value in values:
        level = threshold.level(value, level)
        seen.append(level)
    return seen


def test_levels_rise_at_their_thresholds_and_fall_only_below_them_minus_the_margin() -> None:
    values = [0.80, 0.849, 0.85, 0.919, 0.92, 0.95, 0.90, 0.891, 0.889, 0.83, 0.821, 0.819]
    ok, warning, critical = Level.OK, Level.WARNING, Level.CRITICAL
    assert walk(DISK, values) == [ok, ok, warning, warning, critical, critical, critical,
                                  critical, warning, warning, warning, ok]


def test_a_value_hovering_at_a_threshold_does_not_flip_the_level() -> None:
    hovering = [0.919, 0.921, 0.918, 0.922, 0.917, 0.92, 0.915]
    assert walk(DISK, hovering) == [Level.WARNING] + [Level.CRITICAL] * 6


def test_a_big_drop_goes_straight_to_ok_and_a_jump_straight_to_critical() -> None:
    assert walk(DISK, [0.99, 0.10, 0.95]) == [Level.CRITICAL, Level.OK, Level.CRITICAL]


def test_a_resource_without_a_critical_threshold_is_never_critical() -> None:
    cpu = DEFAULT_THRESHOLDS["cpu"]
    assert cpu.critical is None
    assert walk(cpu, [1.0, 2.5, 50.0, 1.9, 1.7]) == [Level.OK, Level.WARNING, Level.WARNING,
                                                     Level.WARNING, Level.OK]
    assert DEFAULT_THRESHOLDS["gpu_memory"].level(1.0, Level.OK) == Level.WARNING


def test_descriptions_name_the_value_and_the_threshold() -> None:
    assert DISK.describe("disk", 0.9312, Level.CRITICAL) == "disk 93.1% used (critical from 92%)"
    assert DISK.describe("disk", 0.86, Level.WARNING) == "disk 86.0% used (warning from 85%)"
    assert DEFAULT_THRESHOLDS["cpu"].describe("cpu", 2.5, Level.WARNING) == \
        "cpu 2.50 load per core (warning from 2)"


def test_overrides_replace_one_resource_and_keep_the_others() -> None:
    thresholds = parse_thresholds(["disk=0.5:0.6", "cpu=1.5:-:0.1"])
    assert thresholds["disk"] == Threshold(0.5, 0.6, 0.03)
    assert thresholds["cpu"] == Threshold(1.5, None, 0.1, "load per core")
    assert thresholds["memory"] == DEFAULT_THRESHOLDS["memory"]
    assert parse_thresholds([]) == dict(DEFAULT_THRESHOLDS)


@pytest.mark.parametrize(("item", "message"), [
    ("dsk=0.5:0.6", "unknown resource 'dsk'"),
    ("disk=0.5", "resource=warning:critical"),
    ("disk=high:0.9", "resource=warning:critical"),
    ("disk=0.9:0.5", "warning <= critical"),
    ("disk=0.5:nan", "warning <= critical"),
])
def test_bad_overrides_are_refused_naming_the_item(item: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_thresholds([item])


def test_disk_pressure_defers_selfplay_first_then_everything() -> None:
    warning = deferrals([("n1", "disk", Level.WARNING, "disk 86.0% used (warning from 85%)")])
    assert warning == {SELFPLAY: ["selfplay: disk of n1 86.0% used (warning from 85%)"]}
    critical = deferrals([("n1", "disk", Level.CRITICAL, "disk 93.0% used (critical from 92%)"),
                          ("n2", "memory", Level.CRITICAL, "memory 97.0% used")])
    assert set(critical) == {SELFPLAY, TRAINING, EVALUATION}
    assert critical[TRAINING] == ["training: disk of n1 93.0% used (critical from 92%)"]
    assert deferrals([("n2", "memory", Level.CRITICAL, "memory 97.0% used")]) == {}


def test_batch_size_from_the_least_free_gpu() -> None:
    assert batch_size_for([]) == 0
    assert batch_size_for([140 * GIB]) == 512
    assert batch_size_for([32 * GIB + 1]) == 512
    assert batch_size_for([32 * GIB]) == 256
    assert batch_size_for([16 * GIB + 1]) == 256
    assert batch_size_for([16 * GIB]) == 128
    assert batch_size_for([0]) == 128
    assert batch_size_for([80 * GIB, 20 * GIB]) == 256
