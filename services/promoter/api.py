"""The promoter's REST API (FastAPI; OpenAPI at ``/openapi.json``), on the runtime's port.

Read endpoints (model lists, one model, pipeline status, the audit log) need a token of
at least the ``reader`` role, unless the service is configured with open reads; the
mutating ones (promote, roll back) always need an ``operator``'s. A missing, unknown or
revoked token is answered 401, a reader's token on a mutating endpoint 403, and neither
changes anything. Errors are JSON (:class:`~services.promoter.schemas.ErrorBody`): 404
for an unknown model, 409 for an illegal transition or a revision that moved, 422 for
bad input, 503 while the database does not answer. A promotion or rollback commits its
registry change, its audit entry and its events (outbox) in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf.message import Message
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event, derive_event_id
from ringrift.events.topics import TopicSpec
from ringrift.storage.database import session_scope
from services.promoter import actions, views
from services.promoter.access import Role, authenticate, needs_touch, touch
from services.promoter.errors import ApiError, install_error_handlers
from services.promoter.inputs import WeightsCheck
from services.promoter.lifecycle import State
from services.promoter.metrics import API_DENIED
from services.promoter.registry import Decision, decision_outputs, get_model
from services.promoter.schemas import (
    ActionResult,
    AuditView,
    ConfigKey,
    ErrorBody,
    ModelDetails,
    ModelId,
    ModelList,
    PipelineStatus,
    PromoteRequest,
    RollbackRequest,
    TransitionView,
)

PREFIX = "/api/v1"
Enqueue = Callable[[Session, TopicSpec, Event[Message]], None]
"""Adds an event to the outbox in a session's transaction (``ServiceRuntime.enqueue``)."""
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "No token, or an unknown or revoked one"),
        (403, "The token's role may not do this"),
        (404, "Unknown model"),
        (422, "Invalid request"),
        (503, "The database does not answer; retry"))}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Illegal transition, or the revision moved"}}
_bearer = HTTPBearer(auto_error=False, description="A token from `ringrift promoter token "
                     "create` (header `Authorization: Bearer <token>`)")


Config = Annotated[ConfigKey, Path(description="A config, e.g. square8_2p")]
Model = Annotated[ModelId, Path(description="A model id, e.g. rr-1a2b3c...")]


class Caller(NamedTuple):
    name: str
    role: Role | None


def install(app: FastAPI, engine: Engine, enqueue: Enqueue, *, open_reads: bool = False,
            check_weights: WeightsCheck | None = None) -> None:
    """Add the API's routes and its JSON error answers to ``app``."""
    install_error_handlers(app)
    app.include_router(router(engine, enqueue, open_reads=open_reads,
                              check_weights=check_weights))


def router(engine: Engine, enqueue: Enqueue, *, open_reads: bool,
           check_weights: WeightsCheck | None) -> APIRouter:
    """The routes, bound to the promoter's database and outbox."""
    api = APIRouter(prefix=PREFIX, responses=_ERRORS, dependencies=[Depends(_known_query)])
    # Annotations are resolved in this module's globals (postponed), not in this closure:
    # the role checks are defaults, the path types module-level aliases.
    reader = Depends(_open if open_reads else _caller(engine, Role.READER))
    operator = Depends(_caller(engine, Role.OPERATOR))

    @api.get("/configs", response_model=list[PipelineStatus], tags=["status"])
    def all_status(_: Caller = reader) -> list[PipelineStatus]:
        """Pipeline status of every config the promoter has heard of."""
        with session_scope(engine, read_only=True) as session:
            return [views.pipeline_status(session, key) for key in views.known_configs(session)]

    @api.get("/configs/{config_key}", response_model=PipelineStatus, tags=["status"])
    def config_status(config_key: Config, _: Caller = reader) -> PipelineStatus:
        """Current model, latest candidate and evaluation, time since each stage produced."""
        with session_scope(engine, read_only=True) as session:
            return views.pipeline_status(session, config_key.value)

    @api.get("/configs/{config_key}/models", response_model=ModelList, tags=["models"])
    def list_models(config_key: Config, _: Caller = reader, state: State | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> ModelList:
        """The config's models, newest first, with state, rating and parent."""
        with session_scope(engine, read_only=True) as session:
            return views.model_list(session, config_key.value, state, limit)

    @api.get("/models/{model_id}", response_model=ModelDetails, tags=["models"])
    def show_model(model_id: Model, _: Caller = reader) -> ModelDetails:
        """One model: weights, lineage, children, history and evaluations."""
        with session_scope(engine, read_only=True) as session:
            return views.model_details(session, model_id)

    @api.get("/audit", response_model=list[AuditView], tags=["status"])
    def audit(_: Caller = reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditView]:
        """The newest manual actions first: who did what, when and why."""
        with session_scope(engine, read_only=True) as session:
            return views.audit_log(session, limit)

    @api.post("/models/{model_id}/promote", response_model=ActionResult, tags=["actions"],
              responses=_CONFLICT)
    def promote(model_id: Model, body: PromoteRequest, caller: Caller = operator) -> ActionResult:
        """Make the model its config's current model (the current one is superseded)."""
        with session_scope(engine, read_only=True) as session:
            model = get_model(session, model_id)
            weights = (model.weights_uri, model.weights_sha256)
        _check(check_weights, model_id, *weights)
        with session_scope(engine) as session:
            decision = actions.promote(session, model_id, actor=caller.name, reason=body.reason,
                                       expected_revision=body.expected_revision)
            return _publish(session, enqueue, decision)

    @api.post("/configs/{config_key}/rollback", response_model=ActionResult, tags=["actions"],
              responses=_CONFLICT)
    def rollback(config_key: Config, body: RollbackRequest, caller: Caller = operator) -> ActionResult:
        """Make an earlier current model current again (default: the previous one)."""
        key, expected = config_key.value, body.expected_revision
        with session_scope(engine, read_only=True) as session:
            status = views.pipeline_status(session, key)
            target = body.model_id or actions.previous_current(session, key)
            model = get_model(session, target) if target else None
            weights = (model.weights_uri, model.weights_sha256) if model else None
        if weights is not None and target:
            _check(check_weights, target, *weights)
            # The target was chosen from what was read: act only if nothing moved since.
            expected = status.revision if expected is None else expected
        with session_scope(engine) as session:
            decision = actions.rollback(session, key, actor=caller.name, reason=body.reason,
                                        model_id=target, expected_revision=expected)
            return _publish(session, enqueue, decision)

    return api


def _known_query(request: Request) -> None:
    """Refuse query parameters the endpoint does not take (a typo must not be ignored)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    taken = _query_names(dependant) if dependant is not None else set()
    unknown = sorted(set(request.query_params) - taken)
    if unknown:
        raise ApiError(422, "invalid_request", f"unknown query parameter(s) "
                       f"{', '.join(map(repr, unknown))}; this endpoint takes "
                       f"{', '.join(sorted(taken)) or 'none'}",
                       [{"location": ["query", name], "message": "unknown parameter",
                         "type": "extra_forbidden"} for name in unknown])


def _query_names(dependant: Any) -> set[str]:
    """The query parameters of a route, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _open() -> Caller:
    return Caller("anonymous", None)


def _caller(engine: Engine, needed: Role) -> Callable[..., Caller]:
    def authorise(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(_bearer)]) -> Caller:
        if credentials is None:
            API_DENIED.labels("missing").inc()
            raise ApiError(401, "unauthorized", "this endpoint needs a bearer token "
                           "(Authorization: Bearer <token>); create one with ringrift "
                           "promoter token create")
        with session_scope(engine, read_only=True) as session:
            token = authenticate(session, credentials.credentials)
            found = (token.id, token.name, Role(token.role), needs_touch(token)) if token else None
        if found is None:
            API_DENIED.labels("unknown").inc()
            raise ApiError(401, "unauthorized", "the token is unknown or revoked")
        token_id, name, role, stale = found
        if not role.allows(needed):
            API_DENIED.labels("role").inc()
            raise ApiError(403, "forbidden", f"token {name!r} has the {role} role; this needs "
                           f"{needed}")
        if stale:
            with session_scope(engine) as session:
                touch(session, token_id)
        return Caller(name, role)
    return authorise


def _check(check_weights: WeightsCheck | None, model_id: str, uri: str, sha256: str) -> None:
    if check_weights is None:
        return
    try:
        check_weights(uri, sha256)
    except PoisonMessage as error:
        raise ApiError(409, "conflict", f"model {model_id} cannot be made current: "
                       f"{error}") from error


def _publish(session: Session, enqueue: Enqueue, decision: Decision) -> ActionResult:
    """Enqueue the decision's events in its transaction; the answer to the caller."""
    request_id = str(uuid.uuid4())
    for topic, event in decision_outputs(decision, lambda payload, name: Event(
            payload, decision.config_key, "promoter", event_id=derive_event_id(request_id, name),
            correlation_id=request_id)):
        enqueue(session, topic, event)
    assert decision.current is not None, "a manual action always changes the current model"
    return ActionResult(
        config_key=decision.config_key, revision=decision.revision,
        current_model_id=decision.current.model_id,
        transitions=[TransitionView(
            model_id=change.model_id, from_state=change.from_state, to_state=change.to_state,
            at=change.at, cause=change.cause.value, actor=change.actor, reason=change.reason,
            evaluation_id=change.evaluation_id or None, revision=change.revision)
            for change in decision.changes])
