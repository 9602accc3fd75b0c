"""Every setting the deploy files pass is one the service really has.

A misspelt ``RINGRIFT_<SERVICE>_<FIELD>`` is ignored by the service's settings (they
ignore unknown env names), so a typo in compose or a manifest would silently run a default.
Checks: each ``RINGRIFT_<S>_*`` variable of compose (rendered) and of the Kubernetes
workloads names a field of that service's settings class, each flag after ``ringrift
service run <name>`` names one, and the other ``RINGRIFT_*`` names are the shared ones
every service reads. A service that is not on this branch yet is checked once it is.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from ringrift.deploy import compose
from ringrift.deploy.workloads import WORKLOADS, container
from ringrift.events.topics import SERVICES
from ringrift.service.names import ServiceName
from ringrift.service.settings import ServiceSettings

SHARED = ("RINGRIFT_KAFKA_", "RINGRIFT_ARTIFACT_", "RINGRIFT_LOG_")
SHARED_NAMES = {"RINGRIFT_NODE_ID", "RINGRIFT_TOPIC_NAMESPACE", "RINGRIFT_IMAGE"}
ENV = {"POSTGRES_PASSWORD": "pg-secret", "GRAFANA_ADMIN_PASSWORD": "gf-secret",
       "RINGRIFT_PROMOTER_API_TOKEN": "token-secret-of-24-characters"}


def settings_class(service: str) -> type[ServiceSettings] | None:
    """The service's settings class, or None while the service is not in the tree."""
    try:
        module = importlib.import_module(f"services.{ServiceName(service).module}.settings")
    except ModuleNotFoundError:
        return None
    found = [value for value in vars(module).values()
             if isinstance(value, type) and issubclass(value, ServiceSettings)
             and value is not ServiceSettings and getattr(value, "service", None) == service]
    assert len(found) == 1, f"services/{ServiceName(service).module}/settings.py: {found}"
    return found[0]


def problems(env_names: list[str]) -> list[str]:
    """Names no service reads: each ``RINGRIFT_<S>_X`` checked against service S's fields."""
    found: list[str] = []
    prefixes = {ServiceName(service).env_prefix: service for service in SERVICES}
    for name in env_names:
        if not name.startswith("RINGRIFT_") or name in SHARED_NAMES or name.startswith(SHARED):
            continue
        owner = max((p for p in prefixes if name.startswith(p)), key=len, default=None)
        if owner is None:
            found.append(f"{name}: no service reads it")
            continue
        cls = settings_class(prefixes[owner])
        if cls is not None and name[len(owner):].lower() not in cls.model_fields:
            found.append(f"{name}: {cls.__name__} has no field {name[len(owner):].lower()}")
    return found


def flag_problems(service: str, args: list[str]) -> list[str]:
    cls = settings_class(service)
    if cls is None:
        return []
    return [f"{service} {flag}: {cls.__name__} has no such field" for flag in args
            if flag.startswith("--") and flag[2:].replace("-", "_") not in cls.model_fields]


def test_every_service_is_checked_once_it_exists() -> None:
    assert settings_class("exporter") is not None
    assert settings_class("no-such-service") is None


def test_the_check_refuses_a_misspelt_setting() -> None:
    assert problems(["RINGRIFT_PROMOTER_API_TOKN"]) == [
        "RINGRIFT_PROMOTER_API_TOKN: PromoterSettings has no field api_tokn"]
    assert flag_problems("cluster-monitor", ["--rol", "agent"]) != []


@pytest.mark.parametrize("service", sorted(compose.render(ENV)["services"]))
def test_compose_passes_only_real_settings(service: str) -> None:
    spec: dict[str, Any] = compose.render(ENV)["services"][service]
    command = spec.get("command") or []
    args = command[4:] if command[:3] == ["ringrift", "service", "run"] else []
    flags = flag_problems(command[3], args) if args else []
    assert problems(sorted(spec.get("environment") or {})) + flags == []


@pytest.mark.parametrize("item", WORKLOADS, ids=lambda item: item.resource_name)
def test_kubernetes_workloads_pass_only_real_settings(item: Any) -> None:
    spec = container(item)
    flags = flag_problems(item.service, list(item.args))
    assert problems([env["name"] for env in spec["env"]]) + flags == []
