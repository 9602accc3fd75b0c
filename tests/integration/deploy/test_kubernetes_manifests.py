"""The Kubernetes overlays render, pass the strict schema check, and say what they promise.

Checks: each overlay renders with kustomize and every object passes kubeconform's strict
check against Kubernetes 1.37 and the CRDs of Strimzi, the Prometheus Operator and KEDA
(no kind is skipped), and every object, the components' too, lives in the namespace
``ringrift``; the check itself catches an unknown field, a wrong type, a KafkaTopic
in Strimzi's retired v1beta2 and a kind with no schema. Content: every workload runs as
non-root with its own ServiceAccount, requests and limits, and probes on /readyz and
/healthz; gpu-cluster gives exactly selfplay, trainer and evaluator one GPU (request =
limit) on GPU nodes, keeps artifacts in S3 (no shared volume), declares the registry's
KafkaTopics instead of the topics Job, scales exporter and evaluator with KEDA against
the same brokers as the services, and monitors with PodMonitors and the PrometheusRule;
local has no GPU, one Kafka node, replication factor 1 and a ReadWriteOnce volume.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ringrift.deploy import validate
from ringrift.events.topics import TOPICS

GPU_WORKLOADS = {"selfplay", "trainer", "evaluator"}


def _objects(text: str) -> list[dict[str, Any]]:
    return validate.objects(text)


def _by_kind(text: str, kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in _objects(text) if obj["kind"] == kind}


def _dump(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


@pytest.mark.parametrize("overlay", validate.OVERLAYS)
def test_overlay_passes_the_strict_schema_check(deploy_tools: validate.Toolchain,
                                                rendered: dict[str, str], overlay: str) -> None:
    assert len(_objects(rendered[overlay])) > 40
    assert validate.schema_errors(deploy_tools, rendered[overlay]) == []


def _mutate(objects: list[dict[str, Any]], kind: str, change: Any) -> list[dict[str, Any]]:
    target = next(obj for obj in objects if obj["kind"] == kind)
    change(target)
    return objects


MUTATIONS = {
    "unknown container field": ("Deployment", lambda o: o["spec"]["template"]["spec"]
                                ["containers"][0].update(imagePullPolicyy="Always"),
                                "imagePullPolicyy"),
    "partitions as a string": ("KafkaTopic", lambda o: o["spec"].update(partitions="12"),
                               "partitions"),
    "Strimzi v1beta2": ("KafkaTopic", lambda o: o.update(apiVersion="kafka.strimzi.io/v1beta2"),
                        "could not find schema"),
    "unknown ScaledObject field": ("ScaledObject", lambda o: o["spec"].update(maxReplicas=3),
                                   "maxReplicas"),
    "unknown PodMonitor field": ("PodMonitor", lambda o: o["spec"].update(endpoints=[]),
                                 "endpoints"),
    "kind without a schema": ("ConfigMap", lambda o: o.update(apiVersion="example.io/v1"),
                              "could not find schema"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_schema_check_catches(deploy_tools: validate.Toolchain, rendered: dict[str, str],
                              mutation: str) -> None:
    kind, change, expected = MUTATIONS[mutation]
    broken = _dump(_mutate(_objects(rendered["gpu-cluster"]), kind, change))

    errors = validate.schema_errors(deploy_tools, broken)
    assert len(errors) == 1 and expected in errors[0], errors


def _pod_specs(text: str) -> dict[str, dict[str, Any]]:
    return {f"{obj['kind']}/{obj['metadata']['name']}": obj["spec"]["template"]["spec"]
            for obj in _objects(text)
            if obj["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Job")}


@pytest.mark.parametrize("overlay", validate.OVERLAYS)
def test_everything_lives_in_the_namespace(rendered: dict[str, str], overlay: str) -> None:
    # Components' objects too, which the base's namespace setting does not reach.
    assert {obj["metadata"].get("namespace") for obj in _objects(rendered[overlay])
            if obj["kind"] != "Namespace"} == {"ringrift"}


@pytest.mark.parametrize("overlay", validate.OVERLAYS)
def test_every_workload_is_hardened_and_sized(rendered: dict[str, str], overlay: str) -> None:
    text = rendered[overlay]
    accounts = set(_by_kind(text, "ServiceAccount"))
    service_accounts = []
    for name, pod in _pod_specs(text).items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        if name.startswith(("Deployment/", "DaemonSet/")) and "postgres" not in name:
            assert pod["serviceAccountName"] in accounts, name
            service_accounts.append(pod["serviceAccountName"])
            container = pod["containers"][0]
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["envFrom"][0]["configMapRef"]["name"] == "ringrift-config"
    assert len(service_accounts) == len(set(service_accounts)) == 8  # one each


def _gpu(container: dict[str, Any]) -> tuple[str | None, str | None]:
    resources = container["resources"]
    return (resources["requests"].get("nvidia.com/gpu"), resources["limits"].get("nvidia.com/gpu"))


def test_gpu_cluster_overlay(rendered: dict[str, str]) -> None:
    text = rendered["gpu-cluster"]
    deployments = _by_kind(text, "Deployment")
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        if name in GPU_WORKLOADS:
            assert _gpu(pod["containers"][0]) == ("1", "1"), name
            assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
            assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
        else:
            assert _gpu(pod["containers"][0]) == (None, None), name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert "emptyDir" in volumes["artifacts"], name
        assert {"secretRef": {"name": "ringrift-s3", "optional": True}} in \
            pod["containers"][0]["envFrom"]

    config = _by_kind(text, "ConfigMap")["ringrift-config"]["data"]
    assert config["RINGRIFT_ARTIFACT_DIR"].startswith("s3://")
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == "ringrift-kafka-bootstrap:9092"
    assert "ringrift-artifacts" not in _by_kind(text, "PersistentVolumeClaim")
    assert "topics" not in _by_kind(text, "Job")
    topics = _by_kind(text, "KafkaTopic")
    assert set(topics) == {name for spec in TOPICS for name in (spec.name, spec.dlq_name)}
    for scaled in _by_kind(text, "ScaledObject").values():
        assert scaled["spec"]["triggers"][0]["metadata"]["bootstrapServers"] == \
            config["KAFKA_BOOTSTRAP_SERVERS"]
    assert set(_by_kind(text, "ScaledObject")) == {"exporter", "evaluator"}
    assert set(_by_kind(text, "PodMonitor")) == {"ringrift-services", "kafka-exporter"}
    assert set(_by_kind(text, "PrometheusRule")) == {"ringrift"}
    assert _by_kind(text, "KafkaNodePool")["nodes"]["spec"]["replicas"] == 3


def test_local_overlay(rendered: dict[str, str]) -> None:
    text = rendered["local"]
    for name, pod in _pod_specs(text).items():
        for container in pod["containers"]:
            assert _gpu(container) == (None, None), name
    assert _by_kind(text, "KafkaNodePool")["nodes"]["spec"]["replicas"] == 1
    kafka_config = _by_kind(text, "Kafka")["ringrift"]["spec"]["kafka"]["config"]
    assert kafka_config["default.replication.factor"] == kafka_config["min.insync.replicas"] == 1
    assert _by_kind(text, "ConfigMap")["ringrift-config"]["data"][
        "RINGRIFT_KAFKA_REPLICATION_FACTOR"] == "1"
    assert _by_kind(text, "PersistentVolumeClaim")["ringrift-artifacts"]["spec"][
        "accessModes"] == ["ReadWriteOnce"]
    [secret] = [name for name in _by_kind(text, "Secret") if name.startswith("ringrift-secrets")]
    trainer = _by_kind(text, "Deployment")["trainer"]["spec"]["template"]["spec"]
    references = [entry["valueFrom"]["secretKeyRef"]["name"]
                  for entry in trainer["containers"][0]["env"] if "valueFrom" in entry
                  and "secretKeyRef" in entry["valueFrom"]]
    assert references == [secret]  # the generated name, with its content hash
    assert {"postgres"} <= set(_by_kind(text, "StatefulSet"))
