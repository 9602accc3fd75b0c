"""The pipeline's workloads on Kubernetes, described once and written as the kustomize base.

Every service runs the one image with ``ringrift service run <name>``, reads the shared
settings from the ConfigMap ``ringrift-config``, gets its own database on the shared
PostgreSQL server (password from the Secret ``ringrift-secrets``), serves ``/healthz``, ``/readyz`` and
``/metrics`` on its port (the runtime's table, :mod:`ringrift.service.names`), and gets
its own ServiceAccount. The names, ports and env variables derive from the service's
name here and in the runtime, never typed twice; ``ringrift deploy generate`` writes
``deploy/k8s/base/workloads/`` from :data:`WORKLOADS` and a test fails when it is stale.
Sizes are the base's; the overlays patch them per cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringrift.events.topics import CANDIDATE_READY, GAME_COMPLETED, TopicSpec
from ringrift.service.names import ServiceName

IMAGE = "ringrift"
"""The image name the base uses; overlays pin it with kustomize ``images:``."""
CONFIG_MAP = "ringrift-config"
SECRET = "ringrift-secrets"
ARTIFACT_MOUNT = "/var/lib/ringrift/artifacts"
USER_ID = 10001
"""The image's unprivileged user (Dockerfile)."""
GRACE_PERIOD_S = 30
"""Above the runtime's default RINGRIFT_<S>_GRACE_PERIOD_S (25 s), so a pod finishes its
work and leaves its consumer group before the kubelet kills it."""


@dataclass(frozen=True)
class Workload:
    """One Deployment (or DaemonSet) of a service."""

    service: str
    """The canonical service name (the topic registry's, the runtime's)."""
    name: str = ""
    """The resource name; the service name when empty."""
    kind: str = "Deployment"
    args: tuple[str, ...] = ()
    """Arguments after ``ringrift service run <service>``."""
    cpu: str = "250m"
    memory: str = "512Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1Gi"
    gpu: bool = False
    """Takes a GPU in the ``gpu`` component."""
    single_writer: bool = False
    """Never two pods at once (Recreate on update), e.g. the one trainer per config."""
    scale_on: TopicSpec | None = None
    """Scaled by KEDA on its consumer group's lag on this topic (``autoscaling``)."""

    @property
    def resource_name(self) -> str:
        return self.name or self.service

    @property
    def names(self) -> ServiceName:
        return ServiceName(self.service)


WORKLOADS: tuple[Workload, ...] = (
    Workload("selfplay", cpu="2", memory="4Gi", cpu_limit="4", memory_limit="8Gi", gpu=True),
    Workload("exporter", scale_on=GAME_COMPLETED, memory_limit="2Gi"),
    Workload("trainer", cpu="4", memory="16Gi", cpu_limit="8", memory_limit="32Gi", gpu=True,
             single_writer=True),
    Workload("evaluator", cpu="2", memory="4Gi", cpu_limit="4", memory_limit="8Gi", gpu=True,
             scale_on=CANDIDATE_READY),
    Workload("promoter"),
    Workload("curriculum"),
    # One monitor (its status is built from all nodes); an agent on every node.
    Workload("cluster-monitor", args=("--role", "monitor"), single_writer=True),
    Workload("cluster-monitor", name="cluster-monitor-agent", kind="DaemonSet",
             args=("--role", "agent"), cpu="50m", memory="128Mi", cpu_limit="250m",
             memory_limit="256Mi"),
)


def workload(name: str) -> Workload:
    """The workload whose resource is called ``name``.

    Raises:
        KeyError: no such workload.
    """
    for item in WORKLOADS:
        if item.resource_name == name:
            return item
    raise KeyError(f"no workload {name!r}; known: {', '.join(w.resource_name for w in WORKLOADS)}")


def labels(item: Workload) -> dict[str, str]:
    """The workload's labels; ``ringrift.io/gpu`` selects the GPU component's targets."""
    found = {"app.kubernetes.io/name": item.resource_name,
             "app.kubernetes.io/component": item.service, "app.kubernetes.io/part-of": "ringrift"}
    if item.gpu:
        found["ringrift.io/gpu"] = "true"
    return found


def service_account(item: Workload) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": item.resource_name, "labels": labels(item)},
            # The services never call the Kubernetes API.
            "automountServiceAccountToken": False}


def container(item: Workload) -> dict[str, Any]:
    """The service's container: command, port, settings, probes, sizes, hardening."""
    names = item.names
    prefix = names.env_prefix
    return {
        "name": names.module.replace("_", "-"),
        "image": IMAGE,
        "command": ["ringrift", "service", "run", names.name, *item.args],
        "ports": [{"name": "http", "containerPort": names.default_port}],
        "envFrom": [{"configMapRef": {"name": CONFIG_MAP}}],
        "env": [
            {"name": f"{prefix}HTTP_PORT", "value": str(names.default_port)},
            {"name": f"{prefix}INSTANCE_ID",
             "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            # The node as the cluster monitor's agent on it reports it (job routing).
            {"name": "RINGRIFT_NODE_ID",
             "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            *database_env(names),
            *service_env(item),
        ],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"},
                           "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                          "periodSeconds": 10, "failureThreshold": 6},
        # Loading a model or catching up on a compacted topic may take a while at start.
        "startupProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                         "periodSeconds": 5, "failureThreshold": 60},
        "resources": {"requests": {"cpu": item.cpu, "memory": item.memory},
                      "limits": {"cpu": item.cpu_limit, "memory": item.memory_limit}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "artifacts", "mountPath": ARTIFACT_MOUNT},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }


def database_env(names: ServiceName) -> list[dict[str, Any]]:
    """The service's own database on the shared PostgreSQL server (``ringrift_<module>``).

    The URL is put together by Kubernetes from ``POSTGRES_HOST`` and ``POSTGRES_USER``
    (ConfigMap) and ``POSTGRES_PASSWORD`` (Secret key ``postgres-password``; URL-safe
    characters only), so one secret serves every service.
    """
    return [
        {"name": "POSTGRES_PASSWORD",
         "valueFrom": {"secretKeyRef": {"name": SECRET, "key": "postgres-password"}}},
        {"name": f"{names.env_prefix}DATABASE_URL",
         "value": f"postgresql://$(POSTGRES_USER):$(POSTGRES_PASSWORD)@$(POSTGRES_HOST)/"
                  f"{names.postgres_database}"},
    ]


def service_env(item: Workload) -> list[dict[str, Any]]:
    """Settings only one service has: the promoter's provisioned operator token (Secret key
    ``promoter-api-token``, at least 24 characters), the trainer's work directory on the
    pod's ``/tmp`` emptyDir (it survives container restarts, so a killed trainer resumes
    its run; one per replica, never shared)."""
    prefix = item.names.env_prefix
    if item.service == "promoter":
        return [{"name": f"{prefix}API_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": SECRET, "key": "promoter-api-token"}}}]
    if item.service == "trainer":
        return [{"name": f"{prefix}WORK_DIR", "value": "/tmp/trainer"}]
    return []


def pod_spec(item: Workload) -> dict[str, Any]:
    return {
        "serviceAccountName": item.resource_name,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": GRACE_PERIOD_S,
        "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "runAsGroup": USER_ID,
                            "fsGroup": USER_ID, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container(item)],
        "volumes": [{"name": "artifacts",
                     "persistentVolumeClaim": {"claimName": "ringrift-artifacts"}},
                    {"name": "tmp", "emptyDir": {}}],
    }


def controller(item: Workload) -> dict[str, Any]:
    """The Deployment or DaemonSet."""
    selector = {"app.kubernetes.io/name": item.resource_name,
                "app.kubernetes.io/part-of": "ringrift"}
    spec: dict[str, Any] = {"selector": {"matchLabels": selector},
                            "template": {"metadata": {"labels": labels(item)},
                                         "spec": pod_spec(item)}}
    if item.kind == "Deployment":
        spec = {"replicas": 1, **spec}
        if item.single_writer:
            spec["strategy"] = {"type": "Recreate"}
    return {"apiVersion": "apps/v1", "kind": item.kind,
            "metadata": {"name": item.resource_name, "labels": labels(item)}, "spec": spec}


def objects(item: Workload) -> list[dict[str, Any]]:
    """Everything the base declares for one workload."""
    found = [service_account(item), controller(item)]
    if item.service == "promoter" and item.kind == "Deployment":
        # The promoter's REST API (promote, roll back) is reached through this Service.
        found.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": "promoter", "labels": labels(item)},
                      "spec": {"selector": controller(item)["spec"]["selector"]["matchLabels"],
                               "ports": [{"name": "http", "port": item.names.default_port,
                                          "targetPort": "http"}]}})
    return found
