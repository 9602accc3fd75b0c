"""Job routing by cluster health, with two replicas of a service on two nodes.

Two example-service replicas run in one consumer group, one as node ``node-a``, one as
``node-b`` (``RINGRIFT_NODE_ID``). The test plays the cluster monitor: it publishes a
``ClusterStatus`` that reports node-a critical. The replica on node-a then steps aside
(``ringrift_service_taking_work`` 0, it leaves the group) and every game is counted by
the replica on node-b; once node-a is reported ok again, it rejoins and takes a share of
the partitions back. Nothing is lost or counted twice on the way.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ringrift.configs import ALL_CONFIGS
from ringrift.events.envelope import new_event
from ringrift.events.gen.ops.v1.ops_pb2 import ClusterStatus, NodeHealth, Pressure
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.topics import CLUSTER_STATUS, GAME_COMPLETED
from tests.fixtures.services import ServiceEnv, ServiceProcess
from tests.integration.events.support import wait_until
from tests.integration.services.test_example_service import counted, members

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def cluster_status(node_a: int, reason: str = "") -> object:
    status = ClusterStatus(refresh_seconds=3600, nodes=[
        NodeHealth(node_id="node-a", level=node_a, healthy=node_a != Pressure.PRESSURE_CRITICAL,
                   reasons=[reason] if reason else []),
        NodeHealth(node_id="node-b", level=Pressure.PRESSURE_OK, healthy=True)])
    status.updated_at.GetCurrentTime()
    return new_event(status, config_key="all", producer="cluster-monitor")


def one_game_per_config(round_: int) -> list:
    return [new_event(GameCompleted(game_id=f"r{round_}-{config.key}", config_key=config.key),
                      config_key=config.key, producer="selfplay") for config in ALL_CONFIGS]


def counted_by(replica: ServiceProcess) -> float:
    """Games this replica (process) counted, from its own /metrics."""
    return sum(sample.value for family in text_string_to_metric_families(
        replica.get("/metrics").text) for sample in family.samples
        if sample.name == "ringrift_example_games_counted_total")


def taking_work(replica: ServiceProcess) -> float | None:
    for family in text_string_to_metric_families(replica.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "ringrift_service_taking_work":
                return sample.value
    return None


def test_a_replica_on_a_critical_node_hands_its_work_to_the_healthy_one(
        service_env: ServiceEnv) -> None:
    env = service_env
    url = env.migrate("example")
    group = f"example-{env.namespace}"
    replicas = {node: env.start("example", "--consumer-group", group,
                                env=env.env("example", RINGRIFT_NODE_ID=node))
                for node in ("node-a", "node-b")}
    on_a, on_b = replicas["node-a"], replicas["node-b"]
    for replica in replicas.values():
        replica.wait_for("/readyz", 200)
    wait_until(lambda: len(members(env, group)) == 2, 120, "both replicas in the group")
    assert taking_work(on_a) == 1 and taking_work(on_b) == 1

    env.publish(CLUSTER_STATUS, [cluster_status(Pressure.PRESSURE_CRITICAL,
                                                "disk 95.0% used (critical from 92%)")])
    wait_until(lambda: taking_work(on_a) == 0, 120, "node-a's replica stepping aside")
    wait_until(lambda: len(members(env, group)) == 1, 120, "node-a's replica leaving the group")
    assert taking_work(on_b) == 1
    assert "stepping aside" in on_a.log() and "disk 95.0% used" in on_a.log()
    before_a = counted_by(on_a)
    env.publish(GAME_COMPLETED, one_game_per_config(1))
    wait_until(lambda: counted(url) == len(ALL_CONFIGS), 120, "every game of round 1 counted")
    assert counted_by(on_a) == before_a  # node-a took no new work
    assert counted_by(on_b) == len(ALL_CONFIGS)

    env.publish(CLUSTER_STATUS, [cluster_status(Pressure.PRESSURE_OK)])
    wait_until(lambda: taking_work(on_a) == 1, 120, "node-a's replica taking work again")
    wait_until(lambda: len(members(env, group)) == 2, 120, "node-a's replica back in the group")
    on_a.wait_for("/readyz", 200)  # partitions assigned to it again
    env.publish(GAME_COMPLETED, one_game_per_config(2))
    wait_until(lambda: counted(url) == 2 * len(ALL_CONFIGS), 120, "round 2 counted")
    assert counted_by(on_a) > 0, "node-a got no partition back after it recovered"
    assert counted_by(on_a) + counted_by(on_b) == 2 * len(ALL_CONFIGS)  # none twice
    for replica in replicas.values():
        replica.terminate()
        assert replica.wait() == 0
