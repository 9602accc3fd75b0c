"""How many recent rows to train on: KataGo's shuffle window, as a pure function.

Early in a run the data are few and come from weak play, so the window should be small and
turn over fast; later it should hold more rows, but not every row ever made, because old
rows come from much weaker models. KataGo (``python/shuffle.py``) answers with a window that
starts at ``min_rows`` and grows as a power of the number of rows produced so far::

    x       = usable_rows - min_rows + scale
    desired = min_rows + expand_window_per_row * (x**p - scale**p) / (p * scale**(p - 1))

clamped to ``[min_rows, max_rows]``, with ``p`` the taper exponent and ``scale`` the taper
offset (``min_rows`` unless set). The fraction is scaled so that its slope is 1 where the
growth starts: just past ``min_rows`` each new row widens the window by
``expand_window_per_row`` rows, and the slope then falls off as ``usable_rows ** (p - 1)``.
Rows of games played without a trained model (uniform priors, KataGo's "random" games) count
towards ``usable_rows`` only up to ``min_rows``: they fill the first window but do not make
later windows grow. Training waits (:func:`pick_window` returns None) until ``min_rows``
usable rows exist. The defaults are KataGo's (``shuffle.sh``: 0.4 and 0.65), with a minimum
sized for square8 on small machines (about 400 games of ~60 positions).

:func:`pick_window` turns the rule into shards: the newest shards of a config until their rows
reach the desired size (whole shards, so the window may exceed it by less than one shard).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowRule:
    """KataGo's window parameters (the names of ``shuffle.py``'s options)."""

    min_rows: int = 25_000
    """Rows of the first window; no training before this many usable rows exist."""
    max_rows: int | None = 2_000_000
    """The window never holds more rows than this (None: unbounded)."""
    expand_window_per_row: float = 0.4
    """Rows the window grows by per new row just past ``min_rows``."""
    taper_window_exponent: float = 0.65
    """The window grows as this power of the rows produced (1: linear, no taper)."""
    taper_window_scale: float | None = None
    """Rows past ``min_rows`` over which the slope first falls off (None: ``min_rows``)."""

    def __post_init__(self) -> None:
        if self.min_rows < 1 or not 0 < self.taper_window_exponent <= 1:
            raise ValueError("a window rule needs min_rows >= 1 and an exponent in (0, 1]")
        if self.max_rows is not None and self.max_rows < self.min_rows:
            raise ValueError("max_rows must be at least min_rows")
        if self.expand_window_per_row < 0 or (
                self.taper_window_scale is not None and self.taper_window_scale <= 0):
            raise ValueError("expand_window_per_row must be >= 0 and the taper scale > 0")

    def desired_rows(self, usable_rows: int) -> int:
        """The window size for ``usable_rows`` rows produced (``min_rows`` below that).

        Args:
            usable_rows: rows produced for the config, uniform-play rows capped at
                ``min_rows`` (see :func:`usable_rows`).

        Returns:
            The number of rows to train on, in ``[min_rows, max_rows]``.
        """
        if usable_rows <= self.min_rows:
            return self.min_rows
        p = self.taper_window_exponent
        scale = float(self.taper_window_scale or self.min_rows)
        x = usable_rows - self.min_rows + scale
        grown = (x ** p - scale ** p) / (p * scale ** (p - 1))
        desired = int(self.min_rows + self.expand_window_per_row * grown)
        return desired if self.max_rows is None else min(desired, self.max_rows)


@dataclass(frozen=True)
class ShardRows:
    """A shard as the window rule sees it: its id, its rows, and how its games were played."""

    shard_id: str
    samples: int
    uniform: bool = False
    """Played without a trained model (no source model ids): counts only up to min_rows."""


@dataclass(frozen=True)
class WindowChoice:
    """The shards to train on (newest first) and the figures behind the choice."""

    shard_ids: tuple[str, ...]
    rows: int
    """Rows in the chosen shards (at least ``desired_rows`` unless all shards are taken)."""
    desired_rows: int
    usable_rows: int


def usable_rows(shards: Sequence[ShardRows], rule: WindowRule) -> int:
    """Rows that drive the window's growth: every trained-model row, uniform rows up to min."""
    uniform = sum(s.samples for s in shards if s.uniform)
    return min(uniform, rule.min_rows) + sum(s.samples for s in shards if not s.uniform)


def pick_window(shards_newest_first: Sequence[ShardRows],
                rule: WindowRule = WindowRule()) -> WindowChoice | None:
    """The newest shards whose rows reach the rule's window size.

    Args:
        shards_newest_first: every shard known for one config, newest first.
        rule: the window rule.

    Returns:
        The choice, or None while fewer than ``rule.min_rows`` usable rows exist.
    """
    usable = usable_rows(shards_newest_first, rule)
    if usable < rule.min_rows:
        return None
    desired = rule.desired_rows(usable)
    chosen: list[str] = []
    rows = 0
    for shard in shards_newest_first:
        if rows >= desired:
            break
        if shard.samples > 0:
            chosen.append(shard.shard_id)
            rows += shard.samples
    return WindowChoice(shard_ids=tuple(chosen), rows=rows, desired_rows=desired,
                        usable_rows=usable)
