"""Lockstep runners: advance many searches (or whole games) together, one evaluator call a tick.

A search is written as a generator that yields a :class:`LeafBatch` (the leaf positions it needs
scored, and by whom) and receives the evaluations back. That one shape gives both drivers:
:func:`run_task` answers each batch at once (one game, unbatched), and :func:`run_lockstep`
advances every task to its next request, concatenates the requests that share an evaluator and
makes one ``evaluate`` call for all of them. Because each task keeps its own random generator
and receives exactly the evaluations it asked for, batched and unbatched runs give identical
results for the same seeds. A whole self-play game or match game is a task too: it
``yield from``\\ s one search per move. :class:`LockstepPool` is the runner underneath, for
callers that add tasks as others finish (the selfplay service's rolling pool of games).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ringrift.search.evaluator import Evaluation, Evaluator

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class LeafBatch:
    """Positions one task needs scored by ``evaluator`` before it can continue."""

    evaluator: Evaluator
    states: Sequence[Any]
    legal_moves: Sequence[Sequence[Any]]


SearchTask = Generator[LeafBatch, list[Evaluation], T]
"""A resumable computation that yields leaf batches and finally returns a ``T``."""


def run_task(task: SearchTask[T]) -> T:
    """Run one task to completion, evaluating each of its batches as soon as it is asked."""
    try:
        request = next(task)
        while True:
            request = task.send(request.evaluator.evaluate(request.states, request.legal_moves))
    except StopIteration as finished:
        return finished.value


class LockstepPool(Generic[K, T]):
    """Tasks in flight that advance together, one evaluator call per evaluator a tick.

    Tasks may join at any time (:meth:`add`), so a caller can keep a rolling pool of games:
    whenever one finishes, another starts, instead of waiting for a whole batch to end.
    Each task is known by a key of the caller's choosing.
    """

    def __init__(self) -> None:
        self._tasks: dict[K, SearchTask[T]] = {}
        self._pending: dict[K, LeafBatch] = {}
        self._finished: list[tuple[K, T]] = []
        self.evaluator_calls = 0
        """Evaluator calls made so far (one per evaluator per tick)."""
        self.positions_evaluated = 0
        """Positions sent to evaluators so far."""

    def __len__(self) -> int:
        """Tasks in flight (waiting for evaluations)."""
        return len(self._pending)

    def add(self, key: K, task: SearchTask[T]) -> None:
        """Start ``task`` (a fresh generator): run it to its first request.

        Raises:
            ValueError: ``key`` is already in flight.
        """
        if key in self._tasks:
            raise ValueError(f"a task with key {key!r} is already in flight")
        self._tasks[key] = task
        self._advance(key, None)

    def step(self) -> list[tuple[K, T]]:
        """One tick: evaluate every pending request (batched per evaluator), resume the tasks.

        Returns:
            ``(key, result)`` of the tasks that finished since the last step, in the order
            they finished (a task that needed no evaluation finishes in :meth:`add`).
        """
        by_evaluator: dict[int, list[K]] = {}
        for key, request in self._pending.items():
            by_evaluator.setdefault(id(request.evaluator), []).append(key)
        answers: dict[K, list[Evaluation]] = {}
        for keys in by_evaluator.values():
            evaluator = self._pending[keys[0]].evaluator
            states = [s for k in keys for s in self._pending[k].states]
            legal = [m for k in keys for m in self._pending[k].legal_moves]
            evaluations = evaluator.evaluate(states, legal)
            self.evaluator_calls += 1
            self.positions_evaluated += len(states)
            start = 0
            for key in keys:
                count = len(self._pending[key].states)
                answers[key] = evaluations[start:start + count]
                start += count
        self._pending.clear()
        for key, evaluations in answers.items():
            self._advance(key, evaluations)
        finished, self._finished = self._finished, []
        return finished

    def _advance(self, key: K, evaluations: list[Evaluation] | None) -> None:
        """Resume one task until it asks for evaluations (kept pending) or finishes."""
        task = self._tasks[key]
        try:
            request = next(task) if evaluations is None else task.send(evaluations)
            # An empty request needs nothing from the evaluator: answer it here, without a tick.
            while not request.states:
                request = task.send([])
            self._pending[key] = request
        except StopIteration as finished:
            del self._tasks[key]
            self._finished.append((key, finished.value))


def run_lockstep(tasks: Sequence[SearchTask[T]],
                 on_done: Callable[[int, T], None] | None = None,
                 concurrency: int | None = None) -> list[T]:
    """Run ``tasks`` together, batching all pending leaves per evaluator into one call.

    Args:
        tasks: fresh (not yet started) generators.
        on_done: called with (task index, result) as each task finishes, e.g. to advance a
            progress bar.
        concurrency: at most this many tasks in flight (memory and batch size); a finished
            task's slot goes to the next one. ``None`` starts them all at once.

    Returns:
        The tasks' results, in the order of ``tasks``.
    """
    limit = len(tasks) if concurrency is None else max(1, concurrency)
    results: list[Any] = [None] * len(tasks)
    pool: LockstepPool[int, T] = LockstepPool()
    next_task = 0
    while True:
        while len(pool) < limit and next_task < len(tasks):
            pool.add(next_task, tasks[next_task])
            next_task += 1
        for index, result in pool.step():
            results[index] = result
            if on_done is not None:
                on_done(index, result)
        if not len(pool) and next_task >= len(tasks):
            return results
