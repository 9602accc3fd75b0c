"""The Player protocol: choosing a move is a lockstep task, so network players batch across games.

A player's ``choose`` returns a :data:`ringrift.search.SearchTask`: players that need no
evaluation (random, heuristic) return at once without yielding, network players yield their
leaf batches. The match runner and self-play drive many games' choices with
:func:`ringrift.search.run_lockstep`, so the same player code serves one game or hundreds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from ringrift.search import SearchTask

T = TypeVar("T")


class Player(Protocol):
    """Something that picks moves; ``name`` labels it in match tables."""

    name: str

    def choose(self, state: Any, moves: Sequence[Any], rng: np.random.Generator) -> SearchTask[Any]:
        """A task returning one of ``moves`` (the legal moves of ``state``, at least two)."""
        ...


def immediate(value: T) -> SearchTask[T]:
    """A task that needs no evaluation and returns ``value``."""
    return value
    yield  # unreachable: makes this a generator, so callers can ``yield from`` it
