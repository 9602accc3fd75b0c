"""The example service's handlers as plain functions, on a migrated SQLite database.

Checks: games are counted per config with the current model noted (empty before any
model); a game with an unknown config, or whose envelope and payload disagree, is poison
and changes nothing; the report task exports the counts as a gauge; the model readiness
check waits for a current model of its config.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import new_event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.example import handlers
from services.example.tables import GameCount


@pytest.fixture
def engine(sqlite_url: str):
    migrations.upgrade_to_head(sqlite_url, "example")
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def game(config_key: str, game_id: str, envelope_config: str | None = None):
    payload = GameCompleted(game_id=game_id, config_key=config_key, num_moves=10)
    return new_event(payload, config_key=envelope_config or config_key, producer="selfplay")


def counts(engine) -> dict[str, tuple[int, str, str]]:
    with session_scope(engine) as session:
        return {row.config_key: (row.games, row.last_game_id, row.current_model_id)
                for row in session.scalars(select(GameCount))}


def test_games_are_counted_per_config_with_the_current_model(engine) -> None:
    models = {"hex8_2p": CurrentModel(config_key="hex8_2p", model_id="m7", revision=3)}
    counter = handlers.GameCounter(models.get)
    with session_scope(engine) as session:
        for event in (game("hex8_2p", "g1"), game("square8_2p", "g2"), game("hex8_2p", "g3")):
            assert counter(event, session) == []
    assert counts(engine) == {"hex8_2p": (2, "g3", "m7"), "square8_2p": (1, "g2", "")}


@pytest.mark.parametrize("event, reason", [
    (game("chess_2p", "g1"), "not one of"),
    (game("hex8_2p", "g2", envelope_config="square8_2p"), "differs from the payload"),
])
def test_bad_games_are_poison_and_change_nothing(engine, event, reason) -> None:
    with pytest.raises(PoisonMessage, match=reason), session_scope(engine) as session:
        handlers.count_game(event, session, lambda _key: None)
    assert counts(engine) == {}


def test_report_exports_the_counts(engine) -> None:
    with session_scope(engine) as session:
        for index in range(4):
            handlers.count_game(game("square19_3p", f"g{index}"), session, lambda _key: None)
    with session_scope(engine) as session:
        assert handlers.report(session) == []
    assert REGISTRY.get_sample_value("ringrift_example_stored_games",
                                     {"config": "square19_3p"}) == 4


def test_the_model_check_waits_for_a_model_of_its_config() -> None:
    models: dict[str, CurrentModel] = {}
    check = handlers.model_known(models.get, "hex8_3p")
    assert check() == "no current model of hex8_3p yet"
    models["hex8_3p"] = CurrentModel(config_key="hex8_3p", model_id="m1", revision=1)
    assert check() is None
