"""The single-machine loop: generation after generation, resuming where the last run stopped."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ringrift.loop.generation import run_generation
from ringrift.loop.settings import LoopSettings
from ringrift.loop.state import LoopState, load_state, save_state
from ringrift.loop.table import format_row, header

logger = logging.getLogger(__name__)


def run_loop(settings: LoopSettings, echo: Callable[[str], None] = print) -> LoopState:
    """Run generations until ``settings.generations`` are complete; print a row per generation.

    A run directory that already holds completed generations is continued: their rows are
    printed again first, then the first unfinished generation resumes at its unfinished stage.

    Returns:
        The final loop state.
    """
    import torch

    torch.set_num_threads(max(1, settings.threads))
    run_dir = settings.out_dir
    state = load_state(run_dir, settings.identity())
    save_state(run_dir, state)
    echo(f"ringrift loop {settings.config.key}: {settings.generations} generations of "
         f"{settings.games_per_generation} games at {settings.simulations} simulations, "
         f"preset {settings.preset}, state in {run_dir}")
    echo(header())
    for row in state.completed:
        echo(format_row(row))
    done = {row.generation for row in state.completed}
    if done:
        echo(f"(resumed after generation {max(done)})")
    for generation in range(1, settings.generations + 1):
        if generation in done:
            continue
        row = state.current(generation)
        run_generation(settings, state, row, log=logger.info)
        echo(format_row(row))
    best = state.best_model or "none (no candidate promoted yet)"
    echo(f"self-play model: {best}")
    return state
