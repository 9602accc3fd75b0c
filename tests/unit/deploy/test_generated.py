"""The deploy files generated from the registries are current and say what the registries say.

Checks: every generated file matches what ``ringrift deploy generate`` would write (a stale
file fails, naming the command); there is one KafkaTopic per registry topic and per
dead-letter twin with the registry's partitions and retention; every service of the
registry has a workload whose port and env names are the runtime's; the GPU workloads are
selfplay, trainer and evaluator; ScaledObjects are capped at the partition count of the
topic their group consumes; the PrometheusRule holds exactly the rule files' groups.
"""

from __future__ import annotations

import yaml

from ringrift.deploy import generate, kafkatopics, workloads
from ringrift.events.provision import DLQ_RETENTION_MS
from ringrift.events.topics import SERVICES, TOPICS
from ringrift.service.names import ServiceName


def _load(path_text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path_text) if doc]


def test_generated_files_are_current() -> None:
    stale = [str(path.relative_to(generate.REPO_ROOT)) for path in generate.stale_files()]
    assert stale == [], f"stale generated files {stale}: run `ringrift deploy generate`"


def test_stale_file_is_detected(tmp_path, monkeypatch) -> None:
    files = generate.generated_files()
    target = next(iter(files))
    copy = tmp_path / target.name
    copy.write_text(files[target].replace("ringrift", "ringrif", 1))
    monkeypatch.setattr(generate, "generated_files", lambda: {copy: files[target]})
    assert generate.stale_files() == [copy]


def test_one_kafka_topic_per_registry_topic_and_dead_letter_twin() -> None:
    documents = _load(kafkatopics.render())
    by_name = {doc["metadata"]["name"]: doc for doc in documents}

    assert len(documents) == 2 * len(TOPICS) == len(by_name)
    for spec in TOPICS:
        topic, twin = by_name[spec.name], by_name[spec.dlq_name]
        assert topic["apiVersion"] == "kafka.strimzi.io/v1"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafkatopics.CLUSTER_NAME
        assert topic["spec"]["partitions"] == twin["spec"]["partitions"] == spec.partitions
        assert topic["spec"]["config"]["cleanup.policy"] == spec.cleanup.value
        assert topic["spec"]["config"].get("retention.ms") == spec.retention_ms
        assert twin["spec"]["config"] == {"cleanup.policy": "delete",
                                          "retention.ms": DLQ_RETENTION_MS}


def test_every_registry_service_has_a_workload_with_the_runtimes_names() -> None:
    # The cluster monitor's agent role runs as the DaemonSet cluster-monitor-agent.
    services = {item.service for item in workloads.WORKLOADS}
    assert services == SERVICES
    for item in workloads.WORKLOADS:
        names = ServiceName(item.service)
        container = workloads.container(item)
        env = {entry["name"]: entry for entry in container["env"]}
        assert container["ports"] == [{"name": "http", "containerPort": names.default_port}]
        assert env[f"{names.env_prefix}HTTP_PORT"]["value"] == str(names.default_port)
        assert env[f"{names.env_prefix}DATABASE_URL"]["value"].endswith(
            f"/{names.postgres_database}")
        assert container["command"][:4] == ["ringrift", "service", "run", names.name]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_gpu_workloads() -> None:
    assert {item.resource_name for item in workloads.WORKLOADS if item.gpu} == {
        "selfplay", "trainer", "evaluator"}


def test_scaled_objects_are_capped_at_the_partition_count() -> None:
    path = generate.K8S_DIR / "components" / "autoscaling" / "scaled-objects.yaml"
    scaled = {doc["metadata"]["name"]: doc for doc in _load(generate.generated_files()[path])}
    assert set(scaled) == {"exporter", "evaluator"}
    for name, doc in scaled.items():
        topic = workloads.workload(name).scale_on
        trigger = doc["spec"]["triggers"][0]["metadata"]
        assert doc["spec"]["maxReplicaCount"] == topic.partitions
        assert (trigger["topic"], trigger["consumerGroup"]) == (topic.name, name)
        assert name in topic.consumers


def test_prometheus_rule_holds_the_rule_files() -> None:
    path = generate.K8S_DIR / "components" / "monitoring" / "prometheus-rules.yaml"
    [rule] = _load(generate.generated_files()[path])
    from_files = [group for file in sorted(generate.RULES_DIR.glob("*.yml"))
                  for group in yaml.safe_load(file.read_text())["groups"]]
    assert rule["spec"]["groups"] == from_files
    assert {r.get("alert") for g in from_files for r in g["rules"]} >= {
        "RingriftTriggerLatencyHigh", "RingriftConsumerLagGrowing", "RingriftDeadLetter",
        "RingriftNoCandidate", "RingriftNoPromotion", "RingriftNodeLost",
        "RingriftDiskPressureCritical"}
