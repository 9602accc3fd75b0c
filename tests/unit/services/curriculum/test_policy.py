"""The weight policy: more for the fastest-rising and the oldest, a floor, a sum of 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.curriculum.policy import (
    ConfigInputs,
    PolicySettings,
    changed,
    config_weights,
    velocity,
)

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def weights(*inputs: ConfigInputs, **settings: float) -> dict[str, float]:
    return {w.config_key: w.weight for w in config_weights(inputs, PolicySettings(**settings))}


def test_equal_inputs_give_equal_weights_that_sum_to_one() -> None:
    found = weights(*(ConfigInputs(key) for key in ("a", "b", "c", "d")))
    assert found == pytest.approx({"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25})
    assert weights(ConfigInputs("only")) == {"only": pytest.approx(1.0)}
    assert config_weights([], PolicySettings()) == []


def test_the_fastest_rising_and_the_oldest_config_get_more() -> None:
    rising = weights(ConfigInputs("a", elo_velocity=50.0), ConfigInputs("b", elo_velocity=5.0))
    assert rising["a"] > rising["b"] and sum(rising.values()) == pytest.approx(1.0)
    # score a = 1 + 1, b = 1 + 0.1: floor 0.125 each, the other 0.75 in proportion 2 : 1.1.
    assert rising["a"] == pytest.approx(0.125 + 0.75 * 2 / 3.1)
    old = weights(ConfigInputs("a", hours_since_promotion=1),
                  ConfigInputs("b", hours_since_promotion=10))
    assert old["b"] > old["a"]
    falling = weights(ConfigInputs("a", elo_velocity=-30.0), ConfigInputs("b"))
    assert falling == pytest.approx({"a": 0.5, "b": 0.5})  # a falling rating earns nothing


def test_no_enabled_config_starves() -> None:
    many = [ConfigInputs("top", elo_velocity=1000.0, hours_since_promotion=100.0)] + [
        ConfigInputs(f"c{i}") for i in range(11)]
    found = weights(*many, velocity_weight=100.0, age_weight=100.0)
    assert min(found.values()) >= 0.25 / 12 and found["top"] > 0.5
    assert weights(*many, floor_share=1.0) == pytest.approx(dict.fromkeys(found, 1 / 12))


def test_velocity_is_the_rating_change_per_hour_over_the_samples() -> None:
    assert velocity([]) == 0 and velocity([(T0, 100.0)]) == 0
    assert velocity([(T0, 100.0), (T0 + timedelta(hours=1), 130.0),
                     (T0 + timedelta(hours=4), 300.0)]) == pytest.approx(50.0)
    assert velocity([(T0, 100.0), (T0 + timedelta(seconds=30), 900.0)]) == 0  # too close


def test_publish_only_what_changed_enough() -> None:
    old = config_weights([ConfigInputs("a"), ConfigInputs("b")], PolicySettings())
    same = config_weights([ConfigInputs("a", elo=5), ConfigInputs("b")], PolicySettings())
    moved = config_weights([ConfigInputs("a", elo_velocity=9), ConfigInputs("b")],
                           PolicySettings())
    promoted = config_weights([ConfigInputs("a", model_id="m2"), ConfigInputs("b")],
                              PolicySettings())
    assert not changed(old, same, 0.01)
    assert changed(old, moved, 0.01) and changed(old, promoted, 0.01)
    assert changed(old, old[:1], 0.01)
