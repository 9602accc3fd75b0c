"""The exporter's consumer handler as a plain function, on SQLite and PostgreSQL.

Checks: a game is stored once (a redelivery, or a republish under another event id, changes
nothing), with its searched positions as pending samples (none for a truncated game), which
the shard writer is told; every kind of bad event (unknown config, the
envelope and payload disagreeing, wrong seat or ranking counts, no game id, a record that
is not zlib, an unknown encoding, a policy that is not a distribution, an id reused for
another game) is poison with a reason naming it, and stores nothing.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from sqlalchemy import select

from ringrift.errors import PoisonMessage
from ringrift.storage import migrations
from ringrift.storage.database import make_engine, session_scope
from services.exporter.games import pending
from services.exporter.handlers import GameStore
from services.exporter.shards import QueueKey
from services.exporter.tables import GameStatus, Origin, StoredGame
from tests.utils.exporter_games import game_completed, game_event, self_played


@pytest.fixture
def engine(database_url: str):
    migrations.upgrade_to_head(database_url, "exporter")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def handle(engine, handler, event) -> None:
    with session_scope(engine) as session:
        assert handler(event, session) == []


def stored(engine) -> list[tuple[str, str, int]]:
    with session_scope(engine, read_only=True) as session:
        return [(row.game_id, row.status, row.num_samples) for row in
                session.scalars(select(StoredGame).order_by(StoredGame.id))]


def test_games_are_stored_once_and_their_samples_reported(engine) -> None:
    games = self_played(3, truncated_every=3)  # the third is truncated: no samples
    told: list[tuple[QueueKey, int]] = []
    handler = GameStore(lambda key, samples: told.append((key, samples)))
    events = [game_event(game_completed(game)) for game in games]
    for event in (events[0], events[0], events[1], events[2]):
        handle(engine, handler, event)
    assert stored(engine) == [(games[0].game_id, GameStatus.PENDING, len(games[0].decisions)),
                              (games[1].game_id, GameStatus.PENDING, len(games[1].decisions)),
                              (games[2].game_id, GameStatus.PENDING, 0)]
    key = QueueKey("square8_2p", Origin.SELFPLAY)
    assert told == [(key, len(games[0].decisions)), (key, len(games[1].decisions)), (key, 0)]
    with session_scope(engine, read_only=True) as session:
        queue = pending(session)[("square8_2p", Origin.SELFPLAY)]
        assert (queue.games, queue.samples) == (3, sum(len(g.decisions) for g in games[:2]))
    # Another event id for the same game and content (a selfplay republish): no-op too.
    handle(engine, handler, game_event(game_completed(games[1])))
    assert len(stored(engine)) == 3


def _bad_policies(payload) -> bytes:
    """The record with its last policy value (the end of the layout) made 7."""
    body = zlib.decompress(payload.record)
    return zlib.compress(body[:-4] + struct.pack("<f", 7.0))


@pytest.mark.parametrize("change, reason", [
    ({"config_key": "chess_2p"}, "not one of"),
    ({"envelope": "hex8_2p"}, "envelope config 'hex8_2p' differs"),
    ({"seat_model_ids": ["m1"]}, "names 1 seat model"),
    ({"ranking": [1, 1, 2]}, "ranking [1, 1, 2]"),
    ({"game_id": ""}, "a game id of 1 to 128 characters"),
    ({"num_moves": 0}, "has no moves"),
    ({"record": b"not zlib at all"}, "not valid zlib data"),
    ({"record_encoding": "json"}, "unknown record encoding 'json'"),
    ({"record": "policies"}, "policy summing to"),
])
def test_bad_events_are_poison_and_store_nothing(engine, change, reason) -> None:
    payload, change = game_completed(self_played(1)[0]), dict(change)
    config = change.pop("envelope", None)
    if change.get("record") == "policies":
        change["record"] = _bad_policies(payload)
    for name, value in change.items():
        if isinstance(value, list):
            payload.ClearField(name)
            getattr(payload, name).extend(value)
        else:
            setattr(payload, name, value)
    with pytest.raises(PoisonMessage) as raised, session_scope(engine) as session:
        GameStore(lambda _key, _samples: None)(game_event(payload, config_key=config), session)
    assert reason in str(raised.value)
    assert stored(engine) == []


def test_an_id_reused_for_another_game_is_poison(engine) -> None:
    first, second = self_played(2)
    handler = GameStore(lambda _key, _samples: None)
    handle(engine, handler, game_event(game_completed(first)))
    reused = game_completed(second, game_id=first.game_id)
    with pytest.raises(PoisonMessage, match="stored already with other content"), \
            session_scope(engine) as session:
        handler(game_event(reused), session)
    assert [game_id for game_id, _, _ in stored(engine)] == [first.game_id]
