"""Grafana's dashboard schema, generated from its published types, and our dashboard checks.

The schema is generated once per machine from npm ``@grafana/schema`` with
``ts-json-schema-generator`` (``deploy/grafana/schema/package.json``). Checks: a
well-formed dashboard passes; the schema refuses a top-level or panel typo and a wrong
type; our own checks refuse what the schema lets through (an unknown panel type, a typo
inside a target, a datasource other than the provisioned uid, a panel without queries,
two panels with one id); the committed dashboards (pipeline, Kafka, learning, cluster) pass
both, each with its own uid.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ringrift.deploy.generate import DASHBOARD_DIR
from ringrift.deploy.grafana import DATASOURCE_UID, dashboard_errors, dashboard_schema

DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
GOOD: dict[str, Any] = {
    "title": "Kafka", "uid": "ringrift-kafka", "schemaVersion": 41, "editable": False,
    "time": {"from": "now-1h", "to": "now"}, "tags": ["ringrift"],
    "panels": [{
        "id": 1, "type": "timeseries", "title": "Consumer lag per group",
        "datasource": DATASOURCE, "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
        "targets": [{"refId": "A", "datasource": DATASOURCE,
                     "expr": "sum by (group) (ringrift_events_consumer_lag_records)",
                     "legendFormat": "{{group}}"}],
    }],
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(dashboard_schema().read_text())


def _broken(change: Any) -> dict[str, Any]:
    dashboard = copy.deepcopy(GOOD)
    change(dashboard)
    return dashboard


def test_good_dashboard_passes(schema: dict[str, Any]) -> None:
    assert dashboard_errors(GOOD, schema) == []


BROKEN = {
    "top-level typo": (lambda d: d.update(titel="Kafka"), "titel"),
    "panel typo": (lambda d: d["panels"][0].update(gridpos={}), "gridpos"),
    "wrong type": (lambda d: d.update(editable="no"), "is not of type 'boolean'"),
    "unknown panel type": (lambda d: d["panels"][0].update(type="timeseriess"),
                           "unknown panel type 'timeseriess'"),
    "target typo": (lambda d: d["panels"][0]["targets"][0].update(
        exprr=d["panels"][0]["targets"][0].pop("expr")), "unknown keys ['exprr']"),
    "other datasource": (lambda d: d["panels"][0].update(
        datasource={"type": "prometheus", "uid": "elsewhere"}), "not the provisioned"),
    "no queries": (lambda d: d["panels"][0].update(targets=[]), "no targets"),
    "empty expr": (lambda d: d["panels"][0]["targets"][0].update(expr=" "), "no expr"),
    "duplicate id": (lambda d: d["panels"].append(copy.deepcopy(d["panels"][0])),
                     "duplicate panel id 1"),
    "variable elsewhere": (lambda d: d.update(templating={"list": [{
        "name": "config", "type": "query", "query": "label_values(up, job)",
        "datasource": {"type": "prometheus", "uid": "elsewhere"}}]}),
        "variable 'config': datasource"),
    "annotation without query": (lambda d: d.update(annotations={"list": [{
        "name": "Promotions", "enable": True, "iconColor": "green", "datasource": DATASOURCE,
        "titleFormat": "promotion"}]}), "annotation 'Promotions': no expr"),
    "annotation typo": (lambda d: d.update(annotations={"list": [{
        "name": "Promotions", "enable": True, "iconColor": "green", "datasource": DATASOURCE,
        "expr": "up", "titelFormat": "promotion"}]}), "'titelFormat' was unexpected"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_dashboard_is_refused(schema: dict[str, Any], case: str) -> None:
    change, expected = BROKEN[case]
    errors = dashboard_errors(_broken(change), schema)
    assert any(expected in error for error in errors), errors


def test_committed_dashboards_pass(schema: dict[str, Any]) -> None:
    files = sorted(DASHBOARD_DIR.glob("*.json"))
    assert [path.stem for path in files] == ["cluster", "kafka", "learning", "pipeline"]
    uids = set()
    for path in files:
        dashboard = json.loads(path.read_text())
        assert dashboard_errors(dashboard, schema) == [], path.name
        uids.add(dashboard["uid"])
    assert len(uids) == len(files)
