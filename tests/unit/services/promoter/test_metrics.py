"""The promoter's metrics: counted once a decision commits, refreshed from the registry.

Checks: a promotion counts once its transaction commits and not at all when it rolls
back; the periodic refresh sets the revision, the per-state counts and the stage times
from the tables, and creates the per-config series the alerts read (at 0).
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import session_scope
from services.promoter import metrics
from services.promoter.handlers import Promoter
from tests.utils.promoter import candidate, evaluation

CONFIG = "hexagonal_4p"


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_decisions_count_once_committed(engine: Engine, store: DirectoryArtifactStore) -> None:
    before = sample("ringrift_promoter_promotions_total", config=CONFIG) or 0
    with session_scope(engine) as session:
        Promoter()(candidate(store, "a", config=CONFIG), session)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        Promoter()(evaluation("e1", "a", passed=True, config=CONFIG), session)
        raise RuntimeError("the transaction fails after the decision")
    assert (sample("ringrift_promoter_promotions_total", config=CONFIG) or 0) == before
    with session_scope(engine) as session:
        Promoter()(evaluation("e1", "a", passed=True, config=CONFIG), session)
    assert sample("ringrift_promoter_promotions_total", config=CONFIG) == before + 1


def test_the_refresh_reads_the_registry(engine: Engine, store: DirectoryArtifactStore) -> None:
    config = "square19_3p"
    for event in (candidate(store, "a", config=config), candidate(store, "b", config=config),
                  evaluation("e1", "a", passed=True, config=config)):
        with session_scope(engine) as session:
            Promoter()(event, session)
    with session_scope(engine, read_only=True) as session:
        assert metrics.refresh(session) == []
    assert sample("ringrift_promoter_current_model_revision", config=config) == 1
    assert sample("ringrift_promoter_registered_models", config=config, state="promoted") == 1
    assert sample("ringrift_promoter_registered_models", config=config, state="candidate") == 1
    assert sample("ringrift_promoter_registered_models", config=config, state="rejected") == 0
    assert sample("ringrift_promoter_rollbacks_total", config=config) == 0
    assert sample("ringrift_promoter_stage_last_produced_timestamp_seconds", config=config,
                  stage="training") > 1.7e9
    assert sample("ringrift_promoter_stage_last_produced_timestamp_seconds", config=config,
                  stage="export") is None
