"""Events and settings for the evaluator's tests (unit and integration)."""

from __future__ import annotations

from typing import Any

from ringrift.events.envelope import Event, new_event
from ringrift.events.gen.common.v1.common_pb2 import ArtifactRef
from ringrift.events.gen.model.v1.model_pb2 import (
    CandidateReady,
    CurrentModel,
    ModelLifecycleChanged,
)
from ringrift.storage.artifacts import ArtifactRef as StoredRef

SHA = "ab" * 32


def candidate(model_id: str, config_key: str = "square8_2p", *, uri: str = "file:///w/m.pt",
              sha256: str = SHA, envelope_config: str | None = None,
              ref: StoredRef | None = None) -> Event[CandidateReady]:
    """A CandidateReady event (weights from ``ref`` when given)."""
    if ref is not None:
        uri, sha256 = ref.uri, ref.sha256
    payload = CandidateReady(model_id=model_id, config_key=config_key, architecture="tiny",
                             weights=ArtifactRef(uri=uri, sha256=sha256, size_bytes=10))
    return new_event(payload, config_key=envelope_config or config_key, producer="trainer")


def current(model_id: str, config_key: str = "square8_2p", *, revision: int = 1,
            ref: StoredRef | None = None) -> CurrentModel:
    """A CurrentModel value."""
    weights = ArtifactRef(uri=ref.uri if ref else "file:///w/current.pt",
                          sha256=ref.sha256 if ref else SHA, size_bytes=10)
    return CurrentModel(config_key=config_key, model_id=model_id, weights=weights,
                        architecture="tiny", revision=revision)


def lifecycle(transition: Any, model_id: str, config_key: str = "square8_2p", *,
              evaluation_id: str = "", previous: str = "") -> Event[ModelLifecycleChanged]:
    """A ModelLifecycleChanged event."""
    payload = ModelLifecycleChanged(transition=transition, model_id=model_id,
                                    config_key=config_key, evaluation_id=evaluation_id,
                                    previous_model_id=previous, reason="gate: test",
                                    actor="promoter")
    return new_event(payload, config_key=config_key, producer="promoter")
