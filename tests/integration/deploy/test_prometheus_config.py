"""Prometheus' scrape configuration and rules pass promtool, and the alerts fire as they should.

promtool comes from Debian's ``prometheus`` package (installed by the project's code when
missing). Checks: ``promtool check config`` (which also loads the rule files) and
``check rules`` pass; ``promtool test rules`` runs the alert unit tests of
``deploy/prometheus/tests/`` (each alert firing on data that should fire it, silent
otherwise); promtool itself refuses a broken expression; compose's scrape jobs cover every
workload at the runtime's port, named ``ringrift-<workload>`` as the Kubernetes PodMonitor
names them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ringrift.deploy.workloads import WORKLOADS
from ringrift.localinfra.debian import ensure_program

PROMETHEUS_DIR = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> Path:
    return ensure_program("promtool", "prometheus")


def _promtool(promtool: Path, *args: str, cwd: Path = PROMETHEUS_DIR
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_config_and_rules_pass_promtool(promtool: Path) -> None:
    config = _promtool(promtool, "check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "SUCCESS: 1 rule files found" in config.stdout
    rules = _promtool(promtool, "check", "rules", *sorted(
        str(path.relative_to(PROMETHEUS_DIR)) for path in (PROMETHEUS_DIR / "rules").glob("*.yml")))
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_alert_unit_tests_pass(promtool: Path) -> None:
    result = _promtool(promtool, "test", "rules", "tests/alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_refuses_a_broken_rule(promtool: Path, tmp_path: Path) -> None:
    shutil.copytree(PROMETHEUS_DIR, tmp_path / "prometheus")
    rules = tmp_path / "prometheus" / "rules" / "ringrift.rules.yml"
    rules.write_text(rules.read_text().replace("sum by (group, topic)", "sum by (group, topic", 1))

    result = _promtool(promtool, "check", "rules", str(rules), cwd=tmp_path)
    assert result.returncode != 0
    assert "parse error" in result.stdout + result.stderr


def test_scrape_jobs_cover_every_workload_at_its_port() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"]
               for job in config["scrape_configs"]}
    for item in WORKLOADS:
        assert targets[f"ringrift-{item.resource_name}"] == [
            f"{item.resource_name}:{item.names.default_port}"]
    assert "kafka-exporter" in targets
