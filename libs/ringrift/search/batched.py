"""Lockstep runners: advance many searches (or whole games) together, one evaluator call a tick.

A search is written as a generator that yields a :class:`LeafBatch` (the leaf positions it needs
scored, and by whom) and receives the evaluations back. That one shape gives both drivers:
:func:`run_task` answers each batch at once (one game, unbatched), and :func:`run_lockstep`
advances every task to its next request, concatenates the requests that share an evaluator and
makes one ``evaluate`` call for all of them. Because each task keeps its own random generator
and receives exactly the evaluations it asked for, batched and unbatched runs give identical
results for the same seeds. A whole self-play game or match game is a task too: it
``yield from``\\ s one search per move.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ringrift.search.evaluator import Evaluation, Evaluator

T = TypeVar("T")


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
    pending: dict[int, LeafBatch] = {}
    next_task = 0

    def fill() -> None:
        nonlocal next_task
        while len(pending) < limit and next_task < len(tasks):
            _advance(next_task, tasks[next_task], None, pending, results, on_done)
            next_task += 1

    fill()
    while pending:
        by_evaluator: dict[int, list[int]] = {}
        for index, request in pending.items():
            by_evaluator.setdefault(id(request.evaluator), []).append(index)
        answers: dict[int, list[Evaluation]] = {}
        for indices in by_evaluator.values():
            evaluator = pending[indices[0]].evaluator
            states = [s for i in indices for s in pending[i].states]
            legal = [m for i in indices for m in pending[i].legal_moves]
            evaluations = evaluator.evaluate(states, legal)
            start = 0
            for i in indices:
                count = len(pending[i].states)
                answers[i] = evaluations[start:start + count]
                start += count
        pending.clear()
        for index, evaluations in answers.items():
            _advance(index, tasks[index], evaluations, pending, results, on_done)
        fill()
    return results


def _advance(index: int, task: SearchTask[Any], evaluations: list[Evaluation] | None,
             pending: dict[int, LeafBatch], results: list[Any],
             on_done: Callable[[int, Any], None] | None) -> None:
    """Resume one task until it asks for evaluations (kept in ``pending``) or finishes."""
    try:
        request = next(task) if evaluations is None else task.send(evaluations)
        # An empty request needs nothing from the evaluator: answer it here, without a tick.
        while not request.states:
            request = task.send([])
        pending[index] = request
    except StopIteration as finished:
        results[index] = finished.value
        if on_done is not None:
            on_done(index, finished.value)
