"""A real kube-apiserver (with etcd, on loopback) accepts every overlay in a server-side dry run.

The API server is started by the test session (``kube_api`` fixture) with the CRDs of
Strimzi, the Prometheus Operator and KEDA installed and established. Checks: both overlays
are accepted as a whole; and the server refuses what the schema check cannot see: a GPU
request that differs from its limit, an invalid quantity, a selector that does not match
the pod template, a probe without a handler, a Strimzi CEL rule broken (a metrics config
without its source), and a KafkaTopic in a version Strimzi 1.x does not serve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from ringrift.deploy import validate
from ringrift.localinfra.kubeapi import LocalKubeAPI


@pytest.mark.parametrize("overlay", validate.OVERLAYS)
def test_overlay_is_accepted(kube_api: LocalKubeAPI, rendered: dict[str, str],
                             overlay: str) -> None:
    assert validate.dry_run_errors(kube_api, rendered[overlay]) == []


def _first(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    return next(obj for obj in objects
                if obj["kind"] == kind and name in (None, obj["metadata"]["name"]))


def _container(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return _first(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def _gpu_request_differs(objects: list[dict[str, Any]]) -> None:
    _container(objects, "trainer")["resources"]["requests"]["nvidia.com/gpu"] = "2"


def _invalid_quantity(objects: list[dict[str, Any]]) -> None:
    _container(objects, "exporter")["resources"]["limits"]["memory"] = "2 GB"


def _selector_mismatch(objects: list[dict[str, Any]]) -> None:
    _first(objects, "Deployment", "curriculum")["spec"]["selector"]["matchLabels"][
        "app.kubernetes.io/name"] = "someone-else"


def _probe_without_handler(objects: list[dict[str, Any]]) -> None:
    _container(objects, "promoter")["readinessProbe"] = {"periodSeconds": 5}


def _strimzi_cel_rule(objects: list[dict[str, Any]]) -> None:
    _first(objects, "Kafka")["spec"]["kafka"]["metricsConfig"] = {"type": "jmxPrometheusExporter"}


def _unserved_version(objects: list[dict[str, Any]]) -> None:
    _first(objects, "KafkaTopic")["apiVersion"] = "kafka.strimzi.io/v1beta2"


REFUSALS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str]] = {
    "GPU request differs from limit": (_gpu_request_differs, "must be equal to"),
    "invalid quantity": (_invalid_quantity, "quantities must match"),
    "selector does not match labels": (_selector_mismatch, "does not match template"),
    "probe without handler": (_probe_without_handler, "must specify a handler type"),
    "Strimzi CEL rule": (_strimzi_cel_rule, "valueFrom property is required"),
    "version not served": (_unserved_version, "kafka.strimzi.io/v1beta2"),
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_server_refuses(kube_api: LocalKubeAPI, rendered: dict[str, str], refusal: str) -> None:
    change, expected = REFUSALS[refusal]
    objects = validate.objects(rendered["gpu-cluster"])
    change(objects)

    errors = validate.dry_run_errors(kube_api, yaml.safe_dump_all(objects, sort_keys=False))
    assert any(expected in error for error in errors), errors
