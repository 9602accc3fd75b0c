"""The REST API's request and response bodies (they make its OpenAPI schema).

Every input is checked here, in the schema itself, before it reaches the registry: config
keys are the registry's (an enum), ids have the registry's id syntax, free text refuses
control characters (PostgreSQL cannot store a NUL), bodies refuse unknown fields. A
request that fails is answered 422 with an :class:`ErrorBody` naming the field.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ringrift.configs import ALL_CONFIGS
from services.promoter.lifecycle import State

ConfigKey = Enum("ConfigKey", {config.key: config.key for config in ALL_CONFIGS}, type=str)  # type: ignore[misc]
"""The registry's configs, e.g. ``square8_2p``."""
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_TEXT = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
REASON_PATTERN = rf"^{_TEXT}*[^\s\x00-\x1f\x7f]{_TEXT}*$"
"""Free text: no control characters but tabs and newlines (PostgreSQL cannot store a NUL),
and not only white space."""

Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=REASON_PATTERN,
                              description="Why: kept in the audit log and the lifecycle event "
                              "(no control characters but tabs and newlines).")]
ModelId = Annotated[str, Field(pattern=ID_PATTERN, description="A model id, e.g. rr-1a2b...")]
Stage = Literal["export", "training", "evaluation_start", "evaluation", "promotion"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromoteRequest(Request):
    reason: Reason
    # Capped at 2**53 - 1, the integers JSON clients read exactly (JavaScript, float-based
    # schema tools); a revision grows by one a promotion and never gets near it.
    expected_revision: int | None = Field(default=None, ge=0, le=2**53 - 1, description=(
        "Act only if the config is still at this revision (from the status or the model "
        "list); else 409."))


class RollbackRequest(PromoteRequest):
    model_id: ModelId | None = Field(default=None, description=(
        "The earlier current model to make current again; default: the one current just "
        "before the current one."))


class Rating(BaseModel):
    value: float
    lower: float | None = None
    upper: float | None = None
    confidence: float | None = None


class Weights(BaseModel):
    uri: str
    sha256: str
    size_bytes: int


class ModelSummary(BaseModel):
    model_id: str
    config_key: str
    state: State
    current: bool
    parent_model_id: str | None
    architecture: str
    encoder_version: int
    train_step: int
    samples_seen: int
    rating: Rating | None
    trained_at: datetime
    registered_at: datetime
    state_changed_at: datetime


class TransitionView(BaseModel):
    model_id: str
    from_state: State | None
    to_state: State
    at: datetime
    cause: str
    actor: str
    reason: str
    evaluation_id: str | None
    revision: int


class EvaluationView(BaseModel):
    evaluation_id: str
    model_id: str
    opponent_model_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    passed: bool | None
    method: str
    statistic: float | None
    summary: str
    games_played: int
    rating: Rating | None
    decision: str | None = Field(description="promoted, rejected or ignored; null while the "
                                 "evaluation runs or waits for its candidate")
    decision_reason: str


class ModelDetails(ModelSummary):
    weights: Weights
    losses: dict[str, float]
    shard_ids: list[str]
    lineage: list[str] = Field(description="Ancestors, parent first (as far as registered).")
    children: list[str]
    history: list[TransitionView]
    evaluations: list[EvaluationView]


class ModelList(BaseModel):
    config_key: str
    current_model_id: str | None
    revision: int
    models: list[ModelSummary]


class StageStatus(BaseModel):
    stage: Stage
    last_produced_at: datetime | None
    seconds_since: float | None


class PipelineStatus(BaseModel):
    config_key: str
    current_model_id: str | None
    revision: int
    current: ModelSummary | None
    latest_candidate: ModelSummary | None
    latest_evaluation: EvaluationView | None
    stages: list[StageStatus]
    models_by_state: dict[str, int]


class ActionResult(BaseModel):
    config_key: str
    revision: int
    current_model_id: str
    transitions: list[TransitionView]


class AuditView(BaseModel):
    at: datetime
    actor: str
    action: str
    config_key: str | None
    model_id: str | None
    reason: str
    detail: dict[str, object]


class ErrorBody(BaseModel):
    error: str = Field(description="unauthorized, forbidden, unknown_model, conflict, "
                       "invalid_request, unavailable or internal")
    message: str
    fields: list[dict[str, object]] | None = None
