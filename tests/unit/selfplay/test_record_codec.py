"""The game record codec: what selfplay encodes into GameCompleted, the exporter decodes.

Checks: real square8 games round-trip to the same moves, decisions (state, legal moves,
float32 policy), ranking and seat models, and to byte-identical training samples; a truncated
game round-trips as truncated; damaged, tampered or foreign bytes raise ``RecordError`` (a
poison message) naming what is wrong, never another exception.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest

from ringrift.configs import GameConfig
from ringrift.encoding import Encoder
from ringrift.errors import PoisonMessage
from ringrift.game import fingerprint
from ringrift.search import GumbelConfig, UniformEvaluator
from ringrift.selfplay import SelfPlaySettings, play_games
from ringrift.selfplay.record_codec import (
    RECORD_ENCODING,
    RecordError,
    decode_game,
    decode_record,
    encode_game,
)
from ringrift.selfplay.samples import game_samples
from tests.utils import engine

SETTINGS = SelfPlaySettings(GumbelConfig(simulations=4, max_considered_actions=4))


@pytest.fixture(scope="module")
def games():
    return play_games(engine.new_game(), engine.rules(), UniformEvaluator(), 2, SETTINGS,
                      seed=3, game_id_prefix="codec").games


def test_round_trip_gives_the_same_game(games):
    for game in games:
        encoded = encode_game(game, ["m1", "m1"])
        assert encoded.encoding == RECORD_ENCODING
        decoded = decode_game(encoded.data, encoded.encoding)
        assert decoded.game_id == game.game_id
        assert decoded.moves == game.moves
        assert decoded.ranking == game.ranking and not decoded.truncated
        assert decoded.evaluations == game.evaluations
        assert decoded.final_state.is_terminal
        assert len(decoded.decisions) == len(game.decisions) > 0
        for got, want in zip(decoded.decisions, game.decisions, strict=True):
            assert got.move_index == want.move_index
            assert got.moves == want.moves
            assert got.policy.dtype == np.float32
            np.testing.assert_array_equal(got.policy, want.policy.astype(np.float32))
            assert fingerprint(got.state) == fingerprint(want.state)
        assert decode_record(encoded.data).seat_model_ids == ("m1", "m1")


def test_round_trip_gives_identical_samples(games):
    encoder = Encoder.for_config(GameConfig("square8", 2))
    for game in games:
        encoded = encode_game(game, ["uniform", "uniform"])
        want = game_samples(game, encoder)
        got = game_samples(decode_game(encoded.data, encoded.encoding), encoder)
        assert len(got) == len(want) == len(game.decisions)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a.planes, b.planes)
            np.testing.assert_array_equal(a.globals, b.globals)
            np.testing.assert_array_equal(a.policy_indices, b.policy_indices)
            np.testing.assert_array_equal(a.policy_probs, b.policy_probs)
            np.testing.assert_array_equal(a.values, b.values)
            assert a.game_id == b.game_id


def test_truncated_game_round_trips_as_truncated():
    settings = SelfPlaySettings(GumbelConfig(simulations=2), max_moves=12)
    [game] = play_games(engine.new_game("square8", 3), engine.rules(), UniformEvaluator(), 1,
                        settings, seed=0).games
    assert game.truncated
    encoded = encode_game(game, ["a", "b", "c"])
    decoded = decode_game(encoded.data, encoded.encoding)
    assert decoded.truncated and decoded.moves == game.moves
    assert decode_record(encoded.data).seat_model_ids == ("a", "b", "c")
    assert decode_record(encoded.data).record.winner is None
    with pytest.raises(ValueError, match="seat model ids"):
        encode_game(game, ["a", "b"])


def _body(games) -> bytes:
    return zlib.decompress(encode_game(games[0], ["m", "m"]).data)


def _split(body: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack_from("<I", body, 5)
    return json.loads(body[9:9 + length]), body[9 + length:]


def _join(header: dict, rest: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return zlib.compress(b"RRSP\x01" + struct.pack("<I", len(raw)) + raw + rest)


@pytest.mark.parametrize("case", ["encoding", "not-zlib", "cut", "magic", "header",
                                  "policy-cut", "moves-swapped", "ranking", "seats",
                                  "count-changed"])
def test_bad_records_raise_record_error(games, case):
    body = _body(games)
    header, rest = _split(body)
    encoding = RECORD_ENCODING
    if case == "encoding":
        data, encoding = zlib.compress(body), "ringrift-game-record/v0"
    elif case == "not-zlib":
        data = b"definitely not zlib"
    elif case == "cut":
        data = zlib.compress(body)[:-7]
    elif case == "magic":
        data = zlib.compress(b"XXXX\x01" + body[5:])
    elif case == "header":
        data = zlib.compress(body[:9] + b"{not json" + body[9 + len(json.dumps(header)):])
    elif case == "policy-cut":
        data = zlib.compress(body[:-4])
    elif case == "moves-swapped":
        header["moves"][0], header["moves"][1] = header["moves"][1], header["moves"][0]
        data = _join(header, rest)
    elif case == "ranking":
        header["metadata"]["ranking"] = list(reversed(header["metadata"]["ranking"]))
        data = _join(header, rest)
    elif case == "seats":
        header["metadata"]["seat_model_ids"] = ["only-one"]
        data = _join(header, rest)
    else:  # one more legal move claimed at the first decision, one policy value more
        (count,) = struct.unpack_from("<I", rest, 0)
        counts = np.frombuffer(rest, "<u4", count, 4 + 4 * count).copy()
        counts[0] += 1
        rest = rest[:4 + 4 * count] + counts.tobytes() + rest[4 + 8 * count:] + b"\0\0\0\0"
        data = _join(header, rest)
    with pytest.raises(RecordError) as raised:
        decode_game(data, encoding)
    assert isinstance(raised.value, PoisonMessage)
    assert str(raised.value)


def test_inflation_past_the_limit_is_refused(monkeypatch):
    import ringrift.selfplay.record_codec as codec

    monkeypatch.setattr(codec, "MAX_RECORD_BYTES", 1000)
    with pytest.raises(RecordError, match="inflates past"):
        decode_record(zlib.compress(b"RRSP\x01" + b"\0" * 5000))
