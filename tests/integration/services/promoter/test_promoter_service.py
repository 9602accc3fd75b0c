"""The promoter run as users run it (``ringrift service run promoter``), over the real broker,
real HTTP and its own database.

Checks: candidates and gate results published on the bus become promotions, with
lifecycle events (PROMOTED, SUPERSEDED) and current models whose revision grows;
``ringrift models status|list|show|rollback`` against the running service show and
change the registry, the rollback is published with the operator's name as actor;
``/metrics`` counts promotions and rollbacks per config; ``/readyz`` is ready;
malformed events (bytes that are no envelope, a wrong config, weights that are not in
the store, a result without its gate decision, a start that names another config's
model) are dead-lettered with their reason while the service goes on; a provisioned
API token works at once.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ringrift.events import deadletter, replay
from ringrift.events.gen.model.v1.model_pb2 import ModelLifecycleChanged
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.topics import CANDIDATE_READY, EVALUATION_COMPLETED, EVALUATION_STARTED
from tests.fixtures.services import ServiceEnv
from tests.integration.events.support import wait_until
from tests.integration.services.promoter import support
from tests.utils.promoter import candidate, evaluation, model_id, started

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
PROMOTED, SUPERSEDED, ROLLED_BACK = (ModelLifecycleChanged.PROMOTED,
                                     ModelLifecycleChanged.SUPERSEDED,
                                     ModelLifecycleChanged.ROLLED_BACK)


def metric(text: str, name: str, labels: dict[str, str]) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def test_gate_results_promote_and_operators_roll_back(service_env: ServiceEnv) -> None:
    env, store = service_env, support.store(service_env)
    env.publish(CANDIDATE_READY, [candidate(store, "a"), candidate(store, "b", parent="a")])
    env.publish(EVALUATION_COMPLETED, [evaluation("e1", "a", passed=True),
                                       evaluation("e2", "b", passed=True, opponent="a")])
    url = env.database_url("promoter")
    service = support.start(env)
    service.wait_for("/readyz", 200)
    assert support.currents(env, 2) == [(model_id("a"), 1), (model_id("b"), 2)]
    assert support.lifecycle(env, 3) == [(PROMOTED, model_id("a"), "promoter"),
                                         (SUPERSEDED, model_id("a"), "promoter"),
                                         (PROMOTED, model_id("b"), "promoter")]

    alice = support.token(url, "alice", "operator")
    api = ["--url", f"http://127.0.0.1:{service.port()}", "--token", alice]
    status = support.ringrift("models", "status", "square8_2p", *api).stdout
    assert f"current {model_id('b')}" in status and "(revision 2)" in status
    assert re.search(r"promotion +last produced [0-9.]+ s ago", status), status
    assert re.search(r"export +last produced never", status), status
    listing = json.loads(support.ringrift("models", "list", "square8_2p", "--json", *api).stdout)
    assert [(m["model_id"], m["state"]) for m in listing["models"]] == [
        (model_id("b"), "promoted"), (model_id("a"), "superseded")]
    shown = support.ringrift("models", "show", model_id("b"), *api).stdout
    assert f"lineage: {model_id('b')} <- {model_id('a')}" in shown and "gate: passed" in shown

    rolled = support.ringrift("models", "rollback", "square8_2p", "--reason", "regressed",
                              *api).stdout
    assert f"current model {model_id('a')} (revision 3)" in rolled
    assert support.currents(env, 3)[-1] == (model_id("a"), 3)
    assert support.lifecycle(env, 5)[-2:] == [(ROLLED_BACK, model_id("b"), "alice"),
                                              (PROMOTED, model_id("a"), "alice")]
    again = support.ringrift("models", "rollback", "square8_2p", "--reason", "x",
                             "--to", model_id("zz"), *api, check=False)
    assert again.returncode == 1 and f"404: no model '{model_id('zz')}'" in again.stderr
    reader = support.token(url, "rita", "reader")
    refused = support.ringrift("models", "promote", model_id("b"), "--reason", "x", "--url",
                               api[1], "--token", reader, check=False)
    assert refused.returncode == 2 and "403" in refused.stderr and "--token" in refused.stderr

    text = service.get("/metrics").text
    config = {"config": "square8_2p"}
    assert metric(text, "ringrift_promoter_promotions_total", config) == 2
    assert metric(text, "ringrift_promoter_rollbacks_total", config) == 1
    assert metric(text, "ringrift_promoter_current_model_revision", config) == 3
    service.terminate()
    assert service.wait() == 0


def test_malformed_events_are_dead_lettered_and_the_service_goes_on(
        service_env: ServiceEnv) -> None:
    env, store = service_env, support.store(service_env)
    topic = env.topic(CANDIDATE_READY)
    with EventProducer(env.kafka, client_id="test-producer") as producer:
        producer.send([RawRecord(topic.name, b"square8_2p", b"not an envelope", partition=0)])
    env.publish(CANDIDATE_READY, [candidate(store, "x", config="chess_2p",
                                            envelope_config="square8_2p"),
                                  candidate(None, "y"), candidate(store, "a")])
    no_gate = evaluation("e0", "a", passed=True)
    no_gate.payload.ClearField("gate")
    env.publish(EVALUATION_COMPLETED, [no_gate, evaluation("e1", "a", passed=True)])
    service = support.start(env)
    assert support.currents(env, 1) == [(model_id("a"), 1)]
    # Only once "a" is registered can a start naming another config be checked against it.
    env.publish(EVALUATION_STARTED, [started("e9", "a", config="hex8_2p")])
    expected = {CANDIDATE_READY: ("no artifact at", "not one of",
                                  "not a ringrift.events.v1.Envelope"),
                EVALUATION_COMPLETED: ("has no gate decision",),
                EVALUATION_STARTED: ("registered for square8_2p",)}
    for spec, texts in expected.items():
        name = env.topic(spec).name
        wait_until(lambda name=name, texts=texts: len(replay.list_dead_letters(
            env.kafka, name)) == len(texts), 120, f"dead letters of {name}")
        reasons = [letter.context[deadletter.ERROR_MESSAGE]
                   for letter in replay.list_dead_letters(env.kafka, name)]
        for text in texts:
            assert sum(text in reason for reason in reasons) == 1, (text, reasons)
    assert service.process.poll() is None
    service.terminate()
    assert service.wait() == 0


def test_a_provisioned_token_works_at_once(service_env: ServiceEnv) -> None:
    secret = "provisioned-secret-of-the-deployment-0123"
    service = support.start(service_env, RINGRIFT_PROMOTER_API_TOKEN=secret)
    service.wait_for("/readyz", 200)
    headers = {"Authorization": f"Bearer {secret}"}
    base = f"http://127.0.0.1:{service.port()}/api/v1"
    assert httpx.get(f"{base}/configs", headers=headers, timeout=10).status_code == 200
    assert httpx.get(f"{base}/configs", timeout=10).status_code == 401
    assert "registered the provisioned operator token 'deploy'" in service.log()
    assert secret not in service.log()
    service.terminate()
    assert service.wait() == 0
