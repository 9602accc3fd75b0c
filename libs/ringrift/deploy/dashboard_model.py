"""Building blocks of the Grafana dashboards: panels, targets, variables, annotations.

The dashboards (:mod:`ringrift.deploy.dashboards`) are written as data in Python and
turned into Grafana's JSON model here, so that every panel gets the provisioned
datasource, unique ids and a laid-out grid without repeating them by hand, and so that
the real-data test can read every query back (:func:`queries`). ``ringrift deploy
generate`` writes the JSON into ``deploy/grafana/dashboards/``; a test fails when the
committed files are stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ringrift.deploy.grafana import DATASOURCE_UID

DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
SCHEMA_VERSION = 41
WIDTH = 24
"""Grafana's grid is 24 units wide."""


@dataclass(frozen=True)
class Query:
    """One Prometheus query of a panel; ``legend`` is Grafana's legend format."""

    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Panel:
    """One panel. ``needs_gpu``: its series exist only on nodes with a GPU."""

    title: str
    description: str
    queries: Sequence[Query]
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8
    stacked: bool = False
    mappings: Sequence[dict[str, Any]] = ()
    needs_gpu: bool = False


@dataclass(frozen=True)
class Row:
    """A titled row that groups the panels after it."""

    title: str


@dataclass(frozen=True)
class Variable:
    """A dashboard variable filled from a label's values (``label_values(metric, label)``)."""

    name: str
    label: str
    metric: str

    @property
    def query(self) -> str:
        return f"label_values({self.metric}, {self.name})"


@dataclass(frozen=True)
class Annotation:
    """Events drawn on every time series panel: each step where ``expr`` has a value."""

    name: str
    expr: str
    title: str
    color: str


@dataclass(frozen=True)
class Dashboard:
    """One dashboard: its uid is ``ringrift-<name>``, its file ``<name>.json``."""

    name: str
    title: str
    description: str
    items: Sequence[Panel | Row]
    variables: Sequence[Variable] = ()
    annotations: Sequence[Annotation] = ()
    tags: Sequence[str] = field(default=("ringrift",))

    def panels(self) -> Iterator[Panel]:
        return (item for item in self.items if isinstance(item, Panel))


def render(dashboard: Dashboard) -> dict[str, Any]:
    """Grafana's JSON model of ``dashboard``: ids in order, panels laid out left to right."""
    panels: list[dict[str, Any]] = []
    x = y = row_height = 0
    for number, item in enumerate(dashboard.items, start=1):
        if isinstance(item, Row):
            y += row_height
            panels.append({"id": number, "type": "row", "title": item.title, "collapsed": False,
                           "gridPos": {"h": 1, "w": WIDTH, "x": 0, "y": y}, "panels": []})
            x, y, row_height = 0, y + 1, 0
            continue
        if x + item.width > WIDTH:
            x, y, row_height = 0, y + row_height, 0
        panels.append(_panel(number, item, {"h": item.height, "w": item.width, "x": x, "y": y}))
        x += item.width
        row_height = max(row_height, item.height)
    return {
        "uid": f"ringrift-{dashboard.name}", "title": dashboard.title,
        "description": dashboard.description, "tags": list(dashboard.tags),
        "schemaVersion": SCHEMA_VERSION, "editable": False, "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "timezone": "browser",
        "templating": {"list": [_variable(variable) for variable in dashboard.variables]},
        "annotations": {"list": [_annotation(a) for a in dashboard.annotations]},
        "links": [{"title": "RingRift", "type": "dashboards", "tags": ["ringrift"],
                   "asDropdown": True, "icon": "external link", "includeVars": True,
                   "keepTime": True, "targetBlank": False, "tooltip": ""}],
        "panels": panels,
    }


def _panel(number: int, panel: Panel, grid: dict[str, int]) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.mappings:
        defaults["mappings"] = list(panel.mappings)
    if panel.kind == "timeseries":
        defaults["custom"] = {"fillOpacity": 10, "showPoints": "never",
                              "stacking": {"mode": "normal" if panel.stacked else "none",
                                           "group": "A"}}
    return {
        "id": number, "type": panel.kind, "title": panel.title,
        "description": panel.description, "datasource": DATASOURCE, "gridPos": grid,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"showLegend": True, "displayMode": "list",
                               "placement": "bottom"}} if panel.kind == "timeseries" else {},
        "targets": [_target(chr(ord("A") + index), query)
                    for index, query in enumerate(panel.queries)],
    }


def _target(ref: str, query: Query) -> dict[str, Any]:
    target: dict[str, Any] = {"refId": ref, "datasource": DATASOURCE, "expr": query.expr,
                              "legendFormat": query.legend or "__auto", "editorMode": "code"}
    if query.instant:
        target.update(instant=True, range=False, format="table")
    else:
        target.update(range=True)
    return target


def _variable(variable: Variable) -> dict[str, Any]:
    return {"name": variable.name, "label": variable.label, "type": "query",
            "datasource": DATASOURCE,
            "query": {"query": variable.query, "refId": f"{variable.name}-values",
                      "qryType": 1},
            "refresh": 2, "multi": True, "includeAll": True, "allValue": ".*",
            "current": {"text": ["All"], "value": ["$__all"]}, "sort": 1}


def _annotation(annotation: Annotation) -> dict[str, Any]:
    return {"name": annotation.name, "datasource": DATASOURCE, "enable": True,
            "iconColor": annotation.color, "expr": annotation.expr, "step": "1m",
            "titleFormat": annotation.title, "useValueForTime": False}


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every query of a rendered dashboard with where it is: panel targets, variables'
    ``label_values`` queries and annotations."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield f"{panel['title']!r} {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        yield f"variable ${variable['name']}", variable["query"]["query"]
    for annotation in dashboard["annotations"]["list"]:
        yield f"annotation {annotation['name']!r}", annotation["expr"]
