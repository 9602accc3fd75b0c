"""``docker-compose.yml``, rendered as Compose would, against the Compose Specification and our rules.

The schema is compose-go's ``compose-spec.json`` (what Docker Compose validates with),
fetched from its Go module and cached. Checks: the rendered file (variables substituted,
anchors merged) passes the schema, and the schema check itself refuses a typo; rendering
without a required secret fails naming it; every service of the registry runs (the GPU
ones in the cpu and in the gpu profile, the latter reserving an NVIDIA device under the
same network name); every ringrift health check calls /readyz or /healthz on the port the
runtime gives that service; every ``depends_on`` target exists, with a condition that suits
it; images are pinned; ports are published on 127.0.0.1 only; each service's database URL
names its own database; ``migrate`` migrates every service's database; Prometheus and
Grafana mount the files that exist and Grafana's provisioning points at them; the
``.env`` template lists every required secret.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ringrift.deploy import compose
from ringrift.deploy.grafana import DATASOURCE_UID, GRAFANA_DIR
from ringrift.deploy.workloads import WORKLOADS
from ringrift.errors import ConfigurationError
from ringrift.service.names import ServiceName

ENV = {"POSTGRES_PASSWORD": "pg-secret", "GRAFANA_ADMIN_PASSWORD": "gf-secret",
       "RINGRIFT_PROMOTER_API_TOKEN": "token-secret"}
GPU = {"selfplay", "trainer", "evaluator"}
HEALTH_URL = re.compile(r"^http://127\.0\.0\.1:(\d+)(/readyz|/healthz)$")


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    return compose.render(ENV)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(compose.compose_schema().read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_passes_the_compose_specification(rendered: dict[str, Any], validator: Any) -> None:
    assert [error.message for error in validator.iter_errors(rendered)] == []


def test_schema_refuses_a_typo(rendered: dict[str, Any], validator: Any) -> None:
    broken = json.loads(json.dumps(rendered))
    broken["services"]["trainer"]["healthchek"] = broken["services"]["trainer"].pop("healthcheck")
    assert not validator.is_valid(broken)


@pytest.mark.parametrize("secret", sorted(ENV))
def test_required_secret_is_named_when_missing(secret: str) -> None:
    with pytest.raises(ConfigurationError, match=secret):
        compose.render({**ENV, secret: ""})


def _ringrift_services(rendered: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in rendered["services"].items()
            if service.get("command", [])[:3] == ["ringrift", "service", "run"]}


def test_every_service_runs_in_both_profiles(rendered: dict[str, Any]) -> None:
    expected = {item.resource_name for item in WORKLOADS}
    for profile in ("cpu", "gpu"):
        running = compose.services_with_profile(rendered, profile)
        names = {name.removesuffix("-gpu") for name in running
                 if name in _ringrift_services(rendered)}
        assert names == expected, profile
    for name in GPU:
        gpu = rendered["services"][f"{name}-gpu"]
        assert gpu["profiles"] == ["gpu"] and rendered["services"][name]["profiles"] == ["cpu"]
        [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
        assert device == {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
        assert gpu["networks"]["default"]["aliases"] == [name]
        assert gpu["command"] == rendered["services"][name]["command"]


def test_health_checks_call_the_services_endpoints(rendered: dict[str, Any]) -> None:
    for name, service in _ringrift_services(rendered).items():
        url = service["healthcheck"]["test"][-1]
        match = HEALTH_URL.match(url)
        assert match, (name, url)
        assert int(match.group(1)) == ServiceName(service["command"][3]).default_port, name
    for name, service in rendered["services"].items():
        assert "healthcheck" in service or service.get("restart") == "no", name


def test_dependencies_exist_with_fitting_conditions(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, (name, target)
            if rule["condition"] == "service_completed_successfully":
                assert services[target]["restart"] == "no", (name, target)
            else:
                assert rule["condition"] == "service_healthy" and "healthcheck" in \
                    services[target], (name, target)
    for name in _ringrift_services(rendered):
        assert set(services[name]["depends_on"]) == {"topics", "migrate"}, name


def test_images_are_pinned_and_ports_local(rendered: dict[str, Any]) -> None:
    for name, service in rendered["services"].items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), (name, image)
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
    published = {name for name, service in rendered["services"].items() if "ports" in service}
    assert {"promoter", "grafana"} <= published


def test_databases_and_migrations(rendered: dict[str, Any]) -> None:
    environment = rendered["services"]["exporter"]["environment"]
    migrated = rendered["services"]["migrate"]["command"][-1]
    for service in {item.service for item in WORKLOADS}:
        names = ServiceName(service)
        url = environment[f"{names.env_prefix}DATABASE_URL"]
        assert url == f"postgresql://ringrift:pg-secret@postgres:5432/{names.postgres_database}"
        assert f" {service} " in f" {migrated.split(';')[0]} ", service
    assert "DATABASE_URL" not in environment  # services read only their own


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    root = compose.COMPOSE_FILE.parent
    return {volume.split(":")[1]: (root / volume.split(":")[0]).resolve()
            for volume in service["volumes"] if volume.startswith("./")}


def test_prometheus_and_grafana_mount_their_files(rendered: dict[str, Any]) -> None:
    prometheus = _mounts(rendered["services"]["prometheus"])
    assert (prometheus["/etc/prometheus"] / "prometheus.yml").is_file()
    grafana = _mounts(rendered["services"]["grafana"])
    assert grafana["/etc/grafana/provisioning"] == (GRAFANA_DIR / "provisioning").resolve()
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "ringrift.yml")
                              .read_text())["providers"][0]
    assert grafana[provider["options"]["path"]] == (GRAFANA_DIR / "dashboards").resolve()
    [datasource] = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" /
                                   "prometheus.yml").read_text())["datasources"]
    assert datasource["uid"] == DATASOURCE_UID
    assert datasource["url"] == "http://prometheus:9090"


def test_env_template_names_every_required_secret() -> None:
    required = set(re.findall(r"\$\{([A-Z_]+):\?", compose.COMPOSE_FILE.read_text()))
    template = (compose.COMPOSE_FILE.parent / "deploy" / "compose" / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", template, re.MULTILINE))
    assert required == set(ENV) and required <= listed
