"""Concurrent REST requests against the promoter on PostgreSQL: exactly one transition each time.

Checks, with real concurrent HTTP requests released together by a barrier: of several
promotions of one model exactly one succeeds and the others are refused 409 (it is current
already), in several rounds; of promotions of different models that expect the same
revision exactly one succeeds and the others are told the revision moved; the registry's
history, the lifecycle topic and the current-model topic agree afterwards (one PROMOTED
per success, revisions 1..n without gaps or repeats); in a config with no current model
yet, concurrent promotions of different models without an expected revision are applied
one after the other (the row lock): one model ends current, each revision once.
"""

from __future__ import annotations

import threading
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
from tests.utils.promoter import candidate, evaluation, model_id

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
ROUNDS, CALLERS = 4, 6


def together(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    """Run ``calls`` in threads released at the same moment; their status codes."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=60)
        codes[index] = calls[index]().status_code

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return codes


def test_concurrent_promotions_make_exactly_one_transition(
        service_env: ServiceEnv, postgres_database_factory: Callable[[], str]) -> None:
    env, store, url = service_env, support.store(service_env), postgres_database_factory()
    names = [f"m{index}" for index in range(ROUNDS + CALLERS)]
    env.publish(CANDIDATE_READY, [candidate(store, name) for name in names])
    env.publish(EVALUATION_COMPLETED, [evaluation("e0", "m0", passed=True)])
    service = support.start(env, database_url=url)
    service.wait_for("/readyz", 200)
    assert support.currents(env, 1) == [(model_id("m0"), 1)]
    operator = {"Authorization": f"Bearer {support.token(url, 'alice', 'operator')}"}
    base = f"http://127.0.0.1:{service.port()}/api/v1"

    def promote(name: str, **body: object) -> Callable[[], httpx.Response]:
        return lambda: httpx.post(f"{base}/models/{model_id(name)}/promote", headers=operator,
                                  json={"reason": "race", **body}, timeout=60)

    for round_ in range(1, ROUNDS):  # one model, many callers
        codes = together([promote(f"m{round_}") for _ in range(CALLERS)])
        assert sorted(codes) == [200] + [409] * (CALLERS - 1), codes
    revision = ROUNDS
    # Different models, one expected revision: one wins, the others see it moved.
    contenders = names[ROUNDS:]
    codes = together([promote(name, expected_revision=revision) for name in contenders])
    assert sorted(codes) == [200] + [409] * (CALLERS - 1), codes
    winner = contenders[codes.index(200)]
    revision += 1

    assert support.currents(env, revision) == [
        (model_id(name), number) for number, name in enumerate(
            [*names[:ROUNDS], winner], start=1)]
    events = env.read(MODEL_LIFECYCLE, 2 * revision - 1)
    promoted = [e.payload.model_id for e in events
                if e.payload.transition == ModelLifecycleChanged.PROMOTED]
    assert promoted == [model_id(name) for name in [*names[:ROUNDS], winner]]
    engine = make_engine(url)
    try:
        with session_scope(engine, read_only=True) as session:
            promotions = session.scalar(select(func.count()).select_from(Transition).where(
                Transition.to_state == "promoted"))
    finally:
        engine.dispose()
    assert promotions == revision

    # A config without a current model yet, promotions of different models and no expected
    # revision: they are applied one after the other (each supersedes the one before), never
    # two from the same state (two current models, or one revision twice).
    others = [f"h{index}" for index in range(CALLERS)]
    env.publish(CANDIDATE_READY, [candidate(store, name, config="hex8_2p") for name in others])
    wait_until(lambda: httpx.get(f"{base}/configs/hex8_2p/models", headers=operator,
                                 timeout=30).json()["models"].__len__() == CALLERS, 120,
               "the hex8_2p candidates registered")
    assert together([promote(name) for name in others]) == [200] * CALLERS
    listing = httpx.get(f"{base}/configs/hex8_2p/models", headers=operator, timeout=30).json()
    assert listing["revision"] == CALLERS
    assert sorted(m["state"] for m in listing["models"]) == ["promoted"] + ["superseded"] * (
        CALLERS - 1)
    revisions = [e.payload.revision for e in env.read(MODEL_CURRENT, revision + CALLERS)
                 if e.payload.config_key == "hex8_2p"]
    assert sorted(revisions) == list(range(1, CALLERS + 1))
    service.terminate()
    assert service.wait() == 0
