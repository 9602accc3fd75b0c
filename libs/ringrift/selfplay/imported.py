"""GameRecords written by RingRift's engines as training games: replayed, the move played as
the policy target.

A record carries no search policy this engine can use: PY's ``mctsPolicy`` indexes PY's own
list of moves, which our engine does not reproduce (wire-format §6.2). So at every position
of an imported game with more than one legal move the policy target is the move the recorded
player chose, one-hot over the legal moves (the trainer imitates the recorded player), and
the value targets come from the final ranking of the replay, as for self-play. The replay is
the rules library's tolerant one (:func:`ringrift.game.replay.replay_record`): a PY record
that stops mid-turn where PY's after-move victory check holds is a completed game with PY's
winner. Incomplete, illegal and unreadable records give no game; the replay result says why.
The result is a :class:`~ringrift.selfplay.play.SelfPlayGame`, so
:func:`ringrift.selfplay.samples.game_samples` encodes it like any self-play game.
"""

from __future__ import annotations

import numpy as np

from ringrift.game import engine
from ringrift.game.record import GameRecord
from ringrift.game.replay import COMPLETED, ReplayResult, ReplayStep, replay_record, start_state
from ringrift.selfplay.play import Decision, SelfPlayGame


def replay_for_training(record: GameRecord, *, game_id: str = "", source: str = ""
                        ) -> tuple[ReplayResult, SelfPlayGame | None]:
    """Replay ``record``; a completed game also comes back as a training game.

    Args:
        record: the record (or trace) to replay.
        game_id: the training game's id (default: the record's ``id``).
        source: where the record came from, for messages (``games.jsonl:3``).

    Returns:
        The replay result, and the game when the record is a completed game (else None).
    """
    decisions: list[Decision] = []
    try:
        before = [start_state(record)]
    except Exception:  # an unreadable trace state: replay_record reports it
        before = []

    def on_step(step: ReplayStep) -> None:
        state = before[0]
        legal = engine.legal_moves(state)
        played = _index_of(legal, step.state.last_move)
        if len(legal) > 1 and played is not None:
            policy = np.zeros(len(legal), dtype=np.float32)
            policy[played] = 1.0
            decisions.append(Decision(state, legal, policy, step.index))
        before[0] = step.state

    result = replay_record(record, source=source, on_step=on_step if before else None)
    if result.result != COMPLETED or result.final_state is None:
        return result, None
    final = result.final_state
    return result, SelfPlayGame(
        game_id or record.id, list(record.moves), decisions,
        tuple(engine.final_ranking(final)), False, 0, final)


def _index_of(legal: list, move: object) -> int | None:
    """Where the engine's resolved ``move`` is among ``legal`` (None: a host move, resign)."""
    for index, candidate in enumerate(legal):
        if candidate is move:
            return index
    for index, candidate in enumerate(legal):
        if candidate == move:
            return index
    return None
