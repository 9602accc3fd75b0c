"""The loop's per-generation table: one fixed-width row per generation, header printed once."""

from __future__ import annotations

from ringrift.loop.state import GenerationRow

_COLUMNS = (("gen", 4), ("games", 6), ("samples", 8), ("pos/s", 7), ("p-loss", 7),
            ("v-loss", 7), ("vs prev", 17), ("vs random", 17), ("vs heur", 17),
            ("policy/rand", 17), ("promo", 6), ("time", 7))


def header() -> str:
    """Column titles and a rule; win rates are scores (draw = 1/2) with Wilson 95% CIs."""
    titles = " ".join(f"{name:>{width}}" for name, width in _COLUMNS)
    return f"{titles}\n{'-' * len(titles)}"


def _rate(value: list[float] | None) -> str:
    if value is None:
        return "-"
    score, low, high = value
    return f"{score:.2f} [{low:.2f},{high:.2f}]"


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_row(row: GenerationRow) -> str:
    """One line for a completed generation."""
    promoted = "-" if row.promoted is None else ("yes" if row.promoted else "no")
    cells = (str(row.generation), str(row.games), str(row.samples),
             f"{row.positions_per_second:.0f}", _number(row.policy_loss, 3),
             _number(row.value_loss, 3), _rate(row.vs_previous), _rate(row.vs_random),
             _rate(row.vs_heuristic), _rate(row.policy_vs_random), promoted,
             f"{row.seconds:.0f}s")
    return " ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, _COLUMNS, strict=True))
