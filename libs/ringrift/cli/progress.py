"""Progress bars for long work, one style everywhere.

Bars go to stderr and switch themselves off when stderr is not a terminal (CI
logs, services), so piped output stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T], *, description: str, total: int | None = None,
             unit: str = "it") -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar labelled ``description``."""
    yield from tqdm(iterable, desc=description, total=total, unit=unit, leave=False,
                    disable=not sys.stderr.isatty(), file=sys.stderr)


def progress_bar(*, description: str, total: int | None = None, unit: str = "it") -> tqdm:
    """A manually advanced bar (``bar.update(n)``); use as a context manager."""
    return tqdm(desc=description, total=total, unit=unit, leave=False,
                disable=not sys.stderr.isatty(), file=sys.stderr)
