"""The evaluator follows cluster health: deferral, and a replica on a critical node stepping aside.

The test plays the cluster monitor (it publishes ``ClusterStatus``). While the status defers
evaluation, a candidate waits (``ringrift_evaluator_deferred_bool`` 1, nothing announced) and
is evaluated once the deferral clears. With two replicas in one group on two nodes, the node
of the replica playing an evaluation is reported critical mid-match: that replica steps aside
(its job is cancelled cooperatively, its games so far are kept), the other replica takes the
partition and the job over, resumes from the stored games, and the evaluation is answered once
with every game counted once, by one replica or the other.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ringrift.events.envelope import new_event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, Pressure
from ringrift.events.topics import (
    CANDIDATE_READY,
    CLUSTER_STATUS,
    EVALUATION_COMPLETED,
    EVALUATION_STARTED,
)
from tests.fixtures.services import ServiceEnv, ServiceProcess
from tests.integration.events.support import wait_until
from tests.integration.services.evaluator.test_evaluator_kill import stored_games
from tests.integration.services.test_example_service import members
from tests.utils.evaluator import candidate

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
NODES = ("node-a", "node-b")


def cluster_status(*, defer: tuple[str, ...] = (), critical: str = "") -> object:
    status = ClusterStatus(refresh_seconds=3600, defer=list(defer), nodes=[
        NodeHealth(node_id=node, healthy=node != critical,
                   level=Pressure.PRESSURE_CRITICAL if node == critical else Pressure.PRESSURE_OK,
                   reasons=["disk 95.0% used (critical from 92%)"] if node == critical else [])
        for node in NODES])
    status.reasons.extend(f"{work}: disk of node-a 95.0% used (critical from 92%)"
                          for work in defer)
    status.updated_at.GetCurrentTime()
    return new_event(status, config_key="all", producer="cluster-monitor")


def sample(replica: ServiceProcess, name: str) -> float:
    """The sum of a metric's samples on one replica's /metrics (0 if it has none)."""
    return sum(s.value for family in text_string_to_metric_families(replica.get("/metrics").text)
               for s in family.samples if s.name == name)


def played(replica: ServiceProcess) -> float:
    return sample(replica, "ringrift_evaluator_games_played_total")


def test_evaluation_waits_while_the_cluster_defers_it(service_env: ServiceEnv,
                                                      untrained_checkpoint) -> None:
    ref = untrained_checkpoint.stored(service_env)
    service_env.migrate("evaluator")
    service_env.publish(CLUSTER_STATUS, [cluster_status(defer=("selfplay", "evaluation"))])
    evaluator = service_env.start("evaluator", "--simulations", "2", "--max-moves", "30",
                                  "--gate-batch-games", "2", "--gate-max-games", "2",
                                  "--baseline-games", "2")
    service_env.publish(CANDIDATE_READY, [candidate(untrained_checkpoint.model_id, ref=ref)])
    wait_until(lambda: sample(evaluator, "ringrift_evaluator_deferred_bool") == 1, 300,
               "the evaluation deferred")
    assert service_env.read(EVALUATION_STARTED, 0, timeout=3, settle_s=2) == []
    assert "evaluation waits: evaluation: disk of node-a" in evaluator.log()

    service_env.publish(CLUSTER_STATUS, [cluster_status()])
    [completed] = service_env.read(EVALUATION_COMPLETED, 1, timeout=900)
    assert completed.payload.model_id == untrained_checkpoint.model_id
    assert sample(evaluator, "ringrift_evaluator_deferred_bool") == 0


def test_a_replica_on_a_critical_node_hands_its_evaluation_over(service_env: ServiceEnv,
                                                                untrained_checkpoint) -> None:
    ref = untrained_checkpoint.stored(service_env)
    url = service_env.migrate("evaluator")
    group = f"evaluator-{service_env.namespace}"
    # elo1 10: the evidence per pair is small, so the match runs to its 64 games.
    flags = ("--consumer-group", group, "--simulations", "2", "--max-moves", "60",
             "--gate-elo1", "10", "--gate-batch-games", "8", "--gate-max-games", "64",
             "--baseline-games", "2")
    replicas = {node: service_env.start("evaluator", *flags, env=service_env.env(
        "evaluator", RINGRIFT_NODE_ID=node, RINGRIFT_KAFKA_JOB_LEASE_S="5")) for node in NODES}
    for replica in replicas.values():
        replica.wait_for("/readyz", 200, timeout=300)
    wait_until(lambda: len(members(service_env, group)) == 2, 120, "both replicas in the group")

    service_env.publish(CANDIDATE_READY, [candidate(untrained_checkpoint.model_id, ref=ref)])
    wait_until(lambda: any(played(r) >= 2 for r in replicas.values()), 900,
               "two games of the evaluation played")
    owner = next(node for node, replica in replicas.items() if played(replica) >= 2)
    other = next(node for node in NODES if node != owner)
    service_env.publish(CLUSTER_STATUS, [cluster_status(critical=owner)])
    wait_until(lambda: sample(replicas[owner], "ringrift_service_taking_work") == 0, 120,
               f"{owner}'s replica stepping aside")
    handed_over = played(replicas[owner])
    assert len(stored_games(url)) < 64 + 4, "the evaluation ended before the hand-over"

    [completed] = service_env.read(EVALUATION_COMPLETED, 1, timeout=1500, settle_s=3)
    result = completed.payload
    assert result.games_played == len(stored_games(url)) == result.gate.games + 2 + 2
    assert played(replicas[owner]) == handed_over  # no new work on the critical node
    assert played(replicas[other]) > 0
    assert played(replicas[owner]) + played(replicas[other]) == result.games_played  # once each
    assert "stepping aside" in replicas[owner].log()
    assert "stored already; resuming" in replicas[other].log()
    assert len(service_env.read(EVALUATION_STARTED, 1, settle_s=2)) == 1

    service_env.publish(CLUSTER_STATUS, [cluster_status()])
    wait_until(lambda: sample(replicas[owner], "ringrift_service_taking_work") == 1, 120,
               f"{owner}'s replica taking work again")
