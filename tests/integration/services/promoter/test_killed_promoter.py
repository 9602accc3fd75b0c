"""SIGKILL of the promoter in the middle of its decisions (PostgreSQL), then restarts.

A chain of candidates and gate results (two of every three pass against the model current
then, the third fails) arrives in three waves; in each the process is killed as soon as
it has committed its first decision of the wave (the rest of the wave in hand, events in
the outbox not yet published), and started again for the next; then a person promotes a
rejected model over REST and the process is killed as soon as the answer is sent.
Checks: the gate decides every model exactly once (no double promotion, no lost
decision); the registry ends at the expected current model and revision; ``model.current``
holds revisions 1..n, one event each (the relay may send an event twice after a kill,
always with the same id), its last value is the registry's; the lifecycle topic holds one
PROMOTED per promotion and one REJECTED per rejected model; the manual promotion is
published after the restart, with its actor.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from ringrift.events.gen.model.v1.model_pb2 import ModelLifecycleChanged
from ringrift.events.topics import (
    CANDIDATE_READY,
    EVALUATION_COMPLETED,
    MODEL_CURRENT,
    MODEL_LIFECYCLE,
)
from ringrift.storage.database import make_engine, session_scope
from services.promoter.tables import Transition
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until
from tests.integration.services.promoter import support
from tests.utils.promoter import candidate, current, evaluation, model_id, states

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
MODELS, WAVES = 12, 3


def plan() -> tuple[list, list[str], list[str]]:
    """The results in order, the models that pass (in order) and those that fail."""
    results, passed, failed = [], [], []
    for index in range(MODELS):
        name, passes = f"m{index}", index % 3 != 2
        opponent = passed[-1] if passed else "uniform"
        results.append(evaluation(f"e{index}", name, passed=passes, opponent=opponent))
        (passed if passes else failed).append(name)
    return results, passed, failed


def unique(events: list) -> list:
    """The events once each (a relay resends after a kill with the same id)."""
    seen: dict[str, object] = {}
    for event in events:
        seen.setdefault(event.event_id, event)
    return list(seen.values())


def test_killed_mid_decision_then_restarted_decides_each_model_once(
        service_env: ServiceEnv, postgres_database_factory: Callable[[], str]) -> None:
    env, store, url = service_env, support.store(service_env), postgres_database_factory()
    results, passed, failed = plan()
    engine = make_engine(url)
    support.migrate(env, url)

    def decided() -> int:
        with session_scope(engine, read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(Transition).where(
                Transition.to_state.in_(("promoted", "rejected")))))

    try:
        for wave in range(WAVES):  # a kill in each wave, as soon as it starts deciding
            first = wave * MODELS // WAVES
            names = [f"m{index}" for index in range(first, first + MODELS // WAVES)]
            env.publish(CANDIDATE_READY, [candidate(store, name) for name in names])
            env.publish(EVALUATION_COMPLETED, results[first:first + len(names)])
            service = support.start(env, database_url=url)
            wait_until(lambda first=first: decided() > first, 180, f"wave {wave} deciding")
            service.process.kill()
            service.wait()
        service = support.start(env, database_url=url)
        service.wait_for("/readyz", 200)  # its relay publishes what the killed ones left
        wait_until(lambda: decided() == MODELS, 300, "every model decided")
        # A person overrules the gate; the process dies as soon as the answer is sent.
        token = support.token(url, "alice", "operator")
        answer = httpx.post(f"http://127.0.0.1:{service.port()}/api/v1/models/"
                            f"{model_id(failed[0])}/promote", json={"reason": "override"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=60)
        service.process.kill()
        service.wait()
        assert answer.status_code == 200, answer.text
        promoted = [*passed, failed[0]]
        service = support.start(env, database_url=url)
        service.wait_for("/readyz", 200)
        assert current(engine) == (model_id(failed[0]), len(promoted))
        expected = {model_id(name): "superseded" for name in passed}
        expected |= {model_id(name): "rejected" for name in failed[1:]}
        assert states(engine) == expected | {model_id(failed[0]): "promoted"}
        with session_scope(engine, read_only=True) as session:
            per_model = session.execute(select(Transition.model_id, func.count()).where(
                Transition.to_state.in_(("promoted", "rejected"))).group_by(
                Transition.model_id)).all()
        assert sorted(count for _, count in per_model) == [1] * (MODELS - 1) + [2]

        currents = unique(env.read(MODEL_CURRENT, len(promoted), timeout=180))
        assert [(e.payload.model_id, e.payload.revision) for e in currents] == [
            (model_id(name), revision) for revision, name in enumerate(promoted, start=1)]
        changes = unique(env.read(MODEL_LIFECYCLE, 2 * len(promoted) - 1 + len(failed),
                                  timeout=180))
        by_kind: dict[int, list[str]] = {}
        for event in changes:
            by_kind.setdefault(event.payload.transition, []).append(event.payload.model_id)
        assert by_kind[ModelLifecycleChanged.PROMOTED] == [model_id(n) for n in promoted]
        assert sorted(by_kind[ModelLifecycleChanged.REJECTED]) == sorted(
            model_id(n) for n in failed)
        assert by_kind[ModelLifecycleChanged.SUPERSEDED] == [model_id(n) for n in passed]
        assert changes[-1].payload.actor == "alice"
        service.terminate()
        assert service.wait() == 0
    finally:
        engine.dispose()
