"""The REST API in process (FastAPI's test client) on a migrated SQLite database and a real store.

Checks: without a token, with an unknown or revoked one every endpoint answers 401, and a
reader's token on promote or rollback 403, and none of them changes the registry, the
outbox or the audit log; open reads serve reads without a token but never writes; lists,
details, status and the audit log show what the registry holds; promote and rollback
change it, enqueue their events in the same transaction and audit the actor; illegal
transitions and moved revisions answer 409, unknown models 404, bad input 422, weights
missing from the store 409, all in the JSON error shape.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from ringrift.events import envelope
from ringrift.events.outbox import OutboxRow, enqueue
from ringrift.events.topics import MODEL_CURRENT, MODEL_LIFECYCLE
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import session_scope
from services.promoter import access, api
from services.promoter.handlers import Promoter
from services.promoter.inputs import verify_weights
from services.promoter.tables import AuditEntry, Transition
from tests.utils.promoter import candidate, current, evaluation, model_id, states

CONFIG = "square8_2p"


def make_client(engine: Engine, **options) -> TestClient:
    app = FastAPI()
    api.install(app, engine, enqueue, check_weights=verify_weights, **options)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def tokens(engine: Engine) -> dict[str, str]:
    found = {}
    with session_scope(engine) as session:
        for name, role in (("alice", "operator"), ("rita", "reader"), ("old", "operator")):
            found[name] = access.create_token(session, name, role, created_by="test")[1]
        access.revoke_token(session, "old", revoked_by="test")
    return found


@pytest.fixture
def client(engine: Engine, store: DirectoryArtifactStore, tokens) -> Iterator[TestClient]:
    for event in (candidate(store, "a"), candidate(store, "b", parent="a"),
                  candidate(store, "c", parent="b"), evaluation("e1", "a", passed=True),
                  evaluation("e2", "b", passed=True, opponent="a")):
        with session_scope(engine) as session:
            Promoter()(event, session)
    with make_client(engine) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def snapshot(engine: Engine) -> tuple:
    with session_scope(engine, read_only=True) as session:
        counts = tuple(session.scalar(select(func.count()).select_from(table))
                       for table in (Transition, AuditEntry, OutboxRow))
    return states(engine), current(engine), counts


ENDPOINTS = [("GET", "/api/v1/configs", None), ("GET", f"/api/v1/configs/{CONFIG}", None),
             ("GET", f"/api/v1/configs/{CONFIG}/models", None),
             ("GET", f"/api/v1/models/{model_id('a')}", None), ("GET", "/api/v1/audit", None),
             ("POST", f"/api/v1/models/{model_id('c')}/promote", {"reason": "try"}),
             ("POST", f"/api/v1/configs/{CONFIG}/rollback", {"reason": "try"})]


def test_unauthorised_requests_change_nothing(client: TestClient, engine: Engine,
                                              tokens) -> None:
    before = snapshot(engine)
    for method, path, body in ENDPOINTS:
        for headers in ({}, auth("rrt_unknown"), auth(tokens["old"]),
                        {"Authorization": "Basic YWxpY2U6eA=="}):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["error"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
        if method == "POST":
            response = client.request(method, path, json=body, headers=auth(tokens["rita"]))
            assert response.status_code == 403 and "reader role" in response.json()["message"]
        else:
            assert client.get(path, headers=auth(tokens["rita"])).status_code == 200
    assert snapshot(engine) == before


def test_open_reads_serve_reads_but_never_writes(engine: Engine, client: TestClient) -> None:
    with make_client(engine, open_reads=True) as open_client:
        for method, path, body in ENDPOINTS:
            response = open_client.request(method, path, json=body)
            assert response.status_code == (401 if method == "POST" else 200), path


def test_reads_show_the_registry(client: TestClient, tokens) -> None:
    headers = auth(tokens["rita"])
    listing = client.get(f"/api/v1/configs/{CONFIG}/models", headers=headers).json()
    assert (listing["current_model_id"], listing["revision"]) == (model_id("b"), 2)
    assert {m["model_id"]: (m["state"], m["current"], m["parent_model_id"])
            for m in listing["models"]} == {
        model_id("a"): ("superseded", False, None), model_id("b"): ("promoted", True, model_id("a")),
        model_id("c"): ("candidate", False, model_id("b"))}
    assert listing["models"][-1]["rating"] == {"value": 50.0, "lower": 20.0, "upper": 80.0,
                                               "confidence": 0.95}
    only = client.get(f"/api/v1/configs/{CONFIG}/models?state=candidate&limit=5",
                      headers=headers).json()["models"]
    assert [m["model_id"] for m in only] == [model_id("c")]
    details = client.get(f"/api/v1/models/{model_id('c')}", headers=headers).json()
    assert details["lineage"] == [model_id("b"), model_id("a")] and details["children"] == []
    assert details["weights"]["sha256"] and details["losses"] == {"policy": 1.5, "value": 0.4}
    b = client.get(f"/api/v1/models/{model_id('b')}", headers=headers).json()
    assert [(h["from_state"], h["to_state"], h["actor"]) for h in b["history"]] == [
        (None, "candidate", "trainer"), ("candidate", "evaluating", "evaluator"),
        ("evaluating", "promoted", "promoter")]
    assert [(e["evaluation_id"], e["decision"]) for e in b["evaluations"]] == [("e2", "promoted")]
    status = client.get(f"/api/v1/configs/{CONFIG}", headers=headers).json()
    assert status["current"]["model_id"] == model_id("b")
    assert status["latest_candidate"]["model_id"] == model_id("c")
    assert status["latest_evaluation"]["evaluation_id"] == "e2"
    stages = {stage["stage"]: stage for stage in status["stages"]}
    assert stages["export"] == {"stage": "export", "last_produced_at": None, "seconds_since": None}
    assert stages["training"]["seconds_since"] >= 0 and stages["promotion"]["last_produced_at"]
    assert status["models_by_state"] == {"candidate": 1, "promoted": 1, "superseded": 1}
    everything = client.get("/api/v1/configs", headers=headers).json()
    assert [s["config_key"] for s in everything] == [CONFIG]
    empty = client.get("/api/v1/configs/hex8_4p", headers=headers).json()
    assert (empty["current"], empty["revision"], empty["models_by_state"]) == (None, 0, {})


def test_promote_and_rollback(client: TestClient, engine: Engine, tokens) -> None:
    headers = auth(tokens["alice"])
    response = client.post(f"/api/v1/models/{model_id('c')}/promote", headers=headers,
                           json={"reason": "strong in review", "expected_revision": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["revision"], body["current_model_id"]) == (3, model_id("c"))
    assert [(t["model_id"], t["to_state"], t["actor"]) for t in body["transitions"]] == [
        (model_id("b"), "superseded", "alice"), (model_id("c"), "promoted", "alice")]
    response = client.post(f"/api/v1/configs/{CONFIG}/rollback", headers=headers,
                           json={"reason": "regressed in play"})
    assert response.status_code == 200, response.text
    assert (response.json()["revision"], response.json()["current_model_id"]) == (4, model_id("b"))
    assert states(engine)[model_id("c")] == "rolled_back"
    with session_scope(engine, read_only=True) as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    published = [(row.topic, envelope.decode(row.value).payload) for row in rows]
    assert [(topic, getattr(p, "transition", None), p.model_id) for topic, p in published] == [
        (MODEL_LIFECYCLE.name, 4, model_id("b")), (MODEL_LIFECYCLE.name, 1, model_id("c")),
        (MODEL_CURRENT.name, None, model_id("c")),
        (MODEL_LIFECYCLE.name, 3, model_id("c")), (MODEL_LIFECYCLE.name, 1, model_id("b")),
        (MODEL_CURRENT.name, None, model_id("b"))]
    assert [p.revision for topic, p in published if topic == MODEL_CURRENT.name] == [3, 4]
    assert {p.actor for topic, p in published if topic == MODEL_LIFECYCLE.name} == {"alice"}
    audit = client.get("/api/v1/audit", headers=headers).json()
    assert [(a["actor"], a["action"], a["reason"]) for a in audit[:2]] == [
        ("alice", "rollback", "regressed in play"), ("alice", "promote", "strong in review")]


@pytest.mark.parametrize("method, path, body, status, text", [
    ("POST", f"/api/v1/models/{model_id('b')}/promote", {"reason": "x"}, 409, "already"),
    ("POST", f"/api/v1/models/{model_id('a')}/promote", {"reason": "x"}, 409, "roll its config"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", {"reason": "x", "expected_revision": 1},
     409, "at revision 2"),
    ("POST", f"/api/v1/models/{model_id('zz')}/promote", {"reason": "x"}, 404, "no model"),
    ("GET", f"/api/v1/models/{model_id('zz')}", None, 404, "no model"),
    ("POST", f"/api/v1/configs/{CONFIG}/rollback", {"reason": "x", "model_id": model_id("c")},
     409, "can be rolled back to"),
    ("POST", "/api/v1/configs/hex8_2p/rollback", {"reason": "x"}, 409, "no current model"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", {}, 422, "reason"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", {"reason": "  "}, 422, "reason"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", {"reason": "a\x00b"}, 422, "reason"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", {"reason": "x", "force": True}, 422,
     "force"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", "not json", 422, "invalid request"),
    ("POST", f"/api/v1/models/{model_id('c')}/promote", b"Y\x16\xff", 422, "UTF-8 JSON"),
    ("GET", "/api/v1/configs/chess_2p/models", None, 422, "config_key"),
    ("GET", f"/api/v1/configs/{CONFIG}/models?limit=0", None, 422, "limit"),
    ("GET", f"/api/v1/configs/{CONFIG}/models?state=happy", None, 422, "state"),
    ("GET", "/api/v1/models/bad%20id", None, 422, "model_id"),
    ("GET", f"/api/v1/configs/{CONFIG}/models?stat=promoted", None, 422, "unknown query"),
])
def test_errors_answer_json_with_the_right_status(client: TestClient, engine: Engine, tokens,
                                                  method, path, body, status, text) -> None:
    before = snapshot(engine)
    kwargs = {"content": body} if isinstance(body, str | bytes) else {"json": body}
    headers = auth(tokens["alice"]) | {"Content-Type": "application/json"}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert text in response.json()["message"] and response.json()["error"]
    assert snapshot(engine) == before


def test_weights_missing_from_the_store_block_a_promotion(client: TestClient, engine: Engine,
                                                          store: DirectoryArtifactStore,
                                                          tokens) -> None:
    event = candidate(store, "d")
    with session_scope(engine) as session:
        Promoter()(event, session)
    store.path_for(event.payload.weights.sha256).unlink()
    before = snapshot(engine)
    response = client.post(f"/api/v1/models/{model_id('d')}/promote",
                           headers=auth(tokens["alice"]), json={"reason": "x"})
    assert response.status_code == 409 and "no artifact at" in response.json()["message"]
    assert snapshot(engine) == before
