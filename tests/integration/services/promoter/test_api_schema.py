"""Schemathesis against the running promoter's OpenAPI schema (``/openapi.json``), over HTTP.

One promoter process (its own SQLite database, the real broker) holds a small registry
(candidates, a promotion, a rejection) and gets generated requests for every operation,
with an operator's token: valid and invalid bodies, paths and queries. Checks (schemathesis'
own): no 5xx; every status, content type, header and body matches the schema; invalid
input is refused; requests without the token are refused (``ignored_auth``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import CANDIDATE_READY, EVALUATION_COMPLETED, TOPICS
from tests.fixtures.services import ServiceEnv
from tests.integration.services.promoter import support
from tests.utils.promoter import candidate, evaluation

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
EXAMPLES = 30


@pytest.fixture(scope="module")
def promoter(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[str, str]]:
    """(base URL, operator token) of a promoter with a small registry."""
    env = ServiceEnv(KafkaSettings(bootstrap_servers=kafka_bootstrap),
                     Path(tmp_path_factory.mktemp("promoter-api")))
    env.create(TOPICS)
    store = support.store(env)
    env.publish(CANDIDATE_READY, [candidate(store, name, parent=parent) for name, parent in
                                  (("a", ""), ("b", "a"), ("c", "b"), ("d", "b"))])
    env.publish(EVALUATION_COMPLETED, [evaluation("e1", "a", passed=True),
                                       evaluation("e2", "b", passed=True, opponent="a"),
                                       evaluation("e3", "c", passed=False, opponent="b")])
    service = support.start(env)
    try:
        service.wait_for("/readyz", 200)
        support.currents(env, 2)
        token = support.token(env.database_url("promoter"), "schemathesis", "operator")
        yield f"http://127.0.0.1:{service.port()}", token
    finally:
        service.kill()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_matches_its_schema(promoter: tuple[str, str], mode: GenerationMode) -> None:
    # schemathesis' pytest loader (from_fixture) does not run on this pytest; drive its
    # strategies with Hypothesis directly, one operation after the other.
    base, token = promoter
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    schema.config.update(headers={"Authorization": f"Bearer {token}"})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7, [operation.label for operation in operations]
    without_invalid_input = []
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(timeout=60)

        try:
            check()
        except Unsatisfiable:
            if mode is not GenerationMode.NEGATIVE:
                raise
            without_invalid_input.append(operation.label)
    # Only an operation that takes no input at all has no invalid input to send.
    assert without_invalid_input == ([] if mode is GenerationMode.POSITIVE
                                     else ["GET /api/v1/configs"])
