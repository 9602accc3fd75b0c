"""The window-size rule (KataGo's shuffle window) and the choice of shards it makes.

Checks: the window is ``min_rows`` up to ``min_rows`` rows, then grows by
``expand_window_per_row`` per row at first and ever more slowly (a power law), and stops at
``max_rows``; exponent 1 is linear growth; figures worked by hand from the formula; rows of
uniform play count only up to ``min_rows``; the choice takes the newest whole shards until the
desired size is reached, waits while there are too few rows, and skips empty shards; invalid
rules are refused.
"""

from __future__ import annotations

import pytest

from ringrift.training.window_size import ShardRows, WindowRule, pick_window, usable_rows


def test_window_starts_at_min_rows_then_grows_ever_more_slowly() -> None:
    rule = WindowRule(min_rows=10_000, max_rows=None)
    assert rule.desired_rows(0) == rule.desired_rows(10_000) == 10_000
    # Just past the minimum, each new row widens the window by expand_window_per_row.
    assert rule.desired_rows(10_100) == pytest.approx(10_000 + 0.4 * 100, abs=1)
    sizes = [rule.desired_rows(rows) for rows in range(10_000, 2_000_000, 10_000)]
    steps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    assert all(s > 0 for s in steps) and steps[-1] < steps[0] / 3
    assert rule.desired_rows(2_000_000) < 0.4 * 2_000_000


def test_worked_figures() -> None:
    # x = 321,499 - 25,000 + 50,000 = 346,499;
    # 25,000 + 0.4 * (x^0.65 - 50,000^0.65) / (0.65 * 50,000^-0.35) = 102,521.
    rule = WindowRule(min_rows=25_000, max_rows=None, taper_window_scale=50_000)
    assert rule.desired_rows(321_499) == 102_521
    # Scale left at min_rows: x = 100,000; (x^0.65 - 25,000^0.65) / (0.65 * 25,000^-0.35)
    # = 56,241.9, and 25,000 + 0.4 * 56,241.9 = 47,496.
    assert WindowRule(min_rows=25_000).desired_rows(100_000) == 47_496


def test_exponent_one_is_linear_and_max_rows_caps() -> None:
    linear = WindowRule(min_rows=1_000, max_rows=None, taper_window_exponent=1.0,
                        expand_window_per_row=0.5)
    assert linear.desired_rows(5_000) == 1_000 + 0.5 * 4_000
    capped = WindowRule(min_rows=1_000, max_rows=2_000, taper_window_exponent=1.0)
    assert capped.desired_rows(10**9) == 2_000


def test_uniform_rows_count_only_up_to_min_rows() -> None:
    rule = WindowRule(min_rows=1_000)
    uniform = [ShardRows(f"u{i}", 800, uniform=True) for i in range(5)]
    assert usable_rows(uniform, rule) == 1_000
    assert usable_rows([*uniform, ShardRows("m", 500)], rule) == 1_500
    choice = pick_window(uniform, rule)
    assert choice is not None and choice.desired_rows == 1_000
    assert choice.shard_ids == ("u0", "u1")  # the newest two reach 1,000 rows


def test_pick_window_takes_the_newest_whole_shards() -> None:
    rule = WindowRule(min_rows=1_000, max_rows=None, taper_window_exponent=1.0,
                      expand_window_per_row=0.5)
    newest_first = [ShardRows(f"s{i}", 400) for i in range(10)]  # 4,000 rows in all
    choice = pick_window(newest_first, rule)
    assert choice is not None
    assert choice.usable_rows == 4_000 and choice.desired_rows == 2_500
    assert choice.shard_ids == tuple(f"s{i}" for i in range(7))  # 2,800 rows >= 2,500
    assert choice.rows == 2_800
    with_empty = [ShardRows("e", 0), *newest_first]
    picked = pick_window(with_empty, rule)
    assert picked is not None and "e" not in picked.shard_ids


def test_no_window_while_rows_are_too_few() -> None:
    rule = WindowRule(min_rows=1_000)
    assert pick_window([ShardRows("a", 600), ShardRows("b", 399)], rule) is None
    assert pick_window([], rule) is None
    choice = pick_window([ShardRows("a", 600), ShardRows("b", 400)], rule)
    assert choice is not None and choice.shard_ids == ("a", "b")


@pytest.mark.parametrize("kwargs", [
    {"min_rows": 0}, {"taper_window_exponent": 1.5}, {"taper_window_exponent": 0.0},
    {"min_rows": 100, "max_rows": 50}, {"expand_window_per_row": -1.0},
    {"taper_window_scale": 0.0},
])
def test_invalid_rules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        WindowRule(**kwargs)  # type: ignore[arg-type]
