"""The record codec's cheap ingest check (``check_record``): what the exporter runs on every
``GameCompleted`` before storing it.

Checks: a real record gives its number of searched positions (as ``decode_record`` sees
them) without parsing its moves; damaged or foreign bytes, a move count below the last
decision, counts that disagree with the policies, and policies that are not distributions
(negative, not finite, not summing to 1) raise ``RecordError`` naming what is wrong.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from ringrift.configs import GameConfig
from ringrift.selfplay.record_codec import RecordError, check_record, decode_record, encode_game
from ringrift.selfplay.synthetic import synthetic_game

GAME = synthetic_game(GameConfig("square8", 2), 11)
RECORD = encode_game(GAME, ["uniform", "uniform"])


def _with_last_policy_value(value: float) -> bytes:
    body = zlib.decompress(RECORD.data)
    return zlib.compress(body[:-4] + struct.pack("<f", value))


def test_a_record_gives_its_searched_positions() -> None:
    count = check_record(RECORD.data, RECORD.encoding, num_moves=len(GAME.moves))
    assert count == len(GAME.decisions) == len(decode_record(RECORD.data).decisions) > 0


@pytest.mark.parametrize("data, encoding, moves, reason", [
    (RECORD.data, "ringrift-selfplay-record/v0", None, "unknown record encoding"),
    (b"garbage", None, None, "not valid zlib data"),
    (RECORD.data[:-10], None, None, "truncated"),
    (zlib.compress(b"XXXX\x01" + bytes(12)), None, None, "bad magic"),
    (RECORD.data, None, 3, "not increasing move numbers"),
    (_with_last_policy_value(-0.5), None, None, "negative or not finite"),
    (_with_last_policy_value(float("nan")), None, None, "negative or not finite"),
    (_with_last_policy_value(3.0), None, None, "policy summing to"),
    (zlib.compress(zlib.decompress(RECORD.data) + b"\x00\x00\x80\x3f"), None, None,
     "policy values"),
])
def test_bad_records_are_refused_naming_why(data, encoding, moves, reason) -> None:
    with pytest.raises(RecordError, match=reason):
        check_record(data, encoding or RECORD.encoding,
                     num_moves=moves if moves is not None else len(GAME.moves))


def test_policies_are_float32_distributions_in_a_real_record() -> None:
    sums = [float(np.sum(d.policy, dtype=np.float64)) for d in decode_record(RECORD.data).decisions]
    assert max(abs(s - 1.0) for s in sums) < 1e-5
