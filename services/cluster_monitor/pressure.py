"""Pressure levels, deferrals and batch sizes: every threshold of the cluster, in ONE place.

The system this replaces let its disk threshold drift between 85% and 93% in different
files. Here each resource has one :class:`Threshold` (warning, critical, and the margin
of hysteresis), :data:`DEFAULT_THRESHOLDS` holds the defaults, and the only way to change
one is the monitor's ``--thresholds`` setting, parsed by :func:`parse_thresholds`.

Hysteresis: a level is entered when the value reaches its threshold and left only once
the value falls below the threshold minus the margin, so a disk hovering at 92% does not
flip the pipeline between deferring and not with every report.

What the levels mean for the pipeline (:data:`DEFERRALS`): the artifact volume is where
shards, checkpoints and row caches go (and, on one machine, the broker's log and the
databases), so a disk at warning defers self-play, the biggest writer, and a critical
disk defers all new work. Memory, CPU and GPU pressure are a node's own: a node with a
critical resource takes no new work (job routing, :mod:`ringrift.service.routing`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from ringrift.errors import ConfigurationError
from ringrift.events.gen.ops.v1.ops_pb2 import Pressure
from ringrift.service.cluster import EVALUATION, SELFPLAY, TRAINING


class Level(IntEnum):
    """A resource's pressure; the value is what the ``node_pressure_level`` gauge shows."""

    OK = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def proto(self) -> int:
        return {Level.OK: Pressure.PRESSURE_OK, Level.WARNING: Pressure.PRESSURE_ELEVATED,
                Level.CRITICAL: Pressure.PRESSURE_CRITICAL}[self]


@dataclass(frozen=True)
class Threshold:
    """Where a resource's levels start; ``critical=None``: never critical."""

    warning: float
    critical: float | None
    margin: float
    unit: str = "used"

    def level(self, value: float, previous: Level) -> Level:
        """The level for ``value``, given the level held before (hysteresis)."""
        raw = Level.OK
        if value >= self.warning:
            raw = Level.WARNING
        if self.critical is not None and value >= self.critical:
            raw = Level.CRITICAL
        if raw >= previous:
            return raw
        # Falling: leave a level only once clearly below its threshold.
        if previous == Level.CRITICAL and self.critical is not None \
                and value > self.critical - self.margin:
            return Level.CRITICAL
        if previous >= Level.WARNING and value > self.warning - self.margin:
            return Level.WARNING
        return Level.OK

    def describe(self, resource: str, value: float, level: Level) -> str:
        """One line for a level above OK, e.g. ``disk 93.1% used (critical from 92%)``."""
        start = self.critical if level == Level.CRITICAL else self.warning
        name = "critical" if level == Level.CRITICAL else "warning"
        if self.unit == "used":
            return f"{resource} {value:.1%} used ({name} from {start:.0%})"
        return f"{resource} {value:.2f} {self.unit} ({name} from {start:g})"


RESOURCES = ("disk", "memory", "cpu", "gpu_memory")
"""The resources with levels; the names are the gauges' ``resource`` label."""
DEFAULT_THRESHOLDS: Mapping[str, Threshold] = {
    # Fractions of the artifact volume not available to the services.
    "disk": Threshold(0.85, 0.92, 0.03),
    # Fractions of the node's memory not available (MemAvailable).
    "memory": Threshold(0.85, 0.95, 0.03),
    # The 1-minute load average per core: informative only; a busy node still takes work.
    "cpu": Threshold(2.0, None, 0.25, unit="load per core"),
    # The fullest GPU. Never critical by default: a trainer holding most of its GPU's
    # memory (PyTorch's caching allocator) is normal, not a reason to move its work.
    "gpu_memory": Threshold(0.95, None, 0.03),
}
DEFERRALS: Mapping[tuple[str, Level], tuple[str, ...]] = {
    ("disk", Level.WARNING): (SELFPLAY,),
    ("disk", Level.CRITICAL): (SELFPLAY, TRAINING, EVALUATION),
}
"""Work deferred everywhere while a live node's resource is at that level."""
GIB = 1 << 30
BATCH_SIZES: tuple[tuple[int, int], ...] = ((32 * GIB, 512), (16 * GIB, 256), (0, 128))
"""Recommended batch size by the free memory of the node's GPU with the least free."""


def batch_size_for(free_bytes: Iterable[int]) -> int:
    """The recommended batch size for GPUs with ``free_bytes`` free (0 without a GPU)."""
    free = list(free_bytes)
    if not free:
        return 0
    least = min(free)
    return next(size for above, size in BATCH_SIZES if least > above or above == 0)


def deferrals(levels: Iterable[tuple[str, str, Level, str]]) -> dict[str, list[str]]:
    """Work to defer, with the reasons, from ``(node, resource, level, description)``.

    Returns:
        For each deferred kind of work, the reasons (``"<work>: <resource> of <node> ..."``).
    """
    found: dict[str, list[str]] = {}
    for node, resource, level, description in levels:
        for work in DEFERRALS.get((resource, level), ()):
            what, _, rest = description.partition(" ")
            found.setdefault(work, []).append(f"{work}: {what} of {node} {rest}")
    return found


def parse_thresholds(overrides: Iterable[str]) -> dict[str, Threshold]:
    """The thresholds: the defaults, with ``resource=warning:critical[:margin]`` overrides.

    ``critical`` may be ``-`` (never critical), e.g. ``disk=0.80:0.90`` or ``cpu=1.5:-``.

    Raises:
        ConfigurationError: an unknown resource, or values that are not numbers in order.
    """
    thresholds = dict(DEFAULT_THRESHOLDS)
    for item in overrides:
        resource, _, spec = item.partition("=")
        resource = resource.strip()
        if resource not in thresholds:
            raise ConfigurationError(f"threshold {item!r}: unknown resource {resource!r}; "
                                     f"known: {', '.join(RESOURCES)}")
        parts = [part.strip() for part in spec.split(":")]
        default = thresholds[resource]
        try:
            warning = float(parts[0])
            critical = None if parts[1] == "-" else float(parts[1])
            margin = float(parts[2]) if len(parts) > 2 else default.margin
        except (IndexError, ValueError):
            raise ConfigurationError(f"threshold {item!r}: write resource=warning:critical"
                                     "[:margin], e.g. disk=0.85:0.92 (critical '-' = never)"
                                     ) from None
        values = [warning, margin] + ([critical] if critical is not None else [])
        if not all(math.isfinite(v) and v >= 0 for v in values) or \
                (critical is not None and critical < warning):
            raise ConfigurationError(f"threshold {item!r}: need 0 <= warning <= critical "
                                     "and a margin >= 0")
        thresholds[resource] = Threshold(warning, critical, margin, default.unit)
    return thresholds
