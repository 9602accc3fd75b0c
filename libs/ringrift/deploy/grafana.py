"""Grafana provisioning and dashboards: the schema they are checked against, and the checks.

No Grafana server runs on the project's machines, so dashboards are checked offline:

* against Grafana's own dashboard model, as a JSON Schema generated from the TypeScript
  types Grafana publishes (npm ``@grafana/schema``) by ``ts-json-schema-generator``; the
  generator's pinned versions and command are ``deploy/grafana/schema/package.json``.
  :func:`dashboard_schema` runs it once per machine (``npm ci``, then the ``generate``
  script) and caches the result;
* by :func:`dashboard_errors`, for what that schema lets through: an unknown panel type,
  an unknown key in a Prometheus target (``exprr``), an empty query, two panels with one
  id, a datasource other than the provisioned one (:data:`DATASOURCE_UID`). Prometheus
  annotation queries (``expr``, ``step``, ``titleFormat`` beside ``name``) are checked
  here too: the schema's annotation target still knows only the built-in Grafana
  datasource's fields (a TODO in Grafana's types), so they are taken out before it runs.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ringrift.localinfra.toolcache import ToolBuildError, ensure_directory, run

REPO_ROOT = Path(__file__).resolve().parents[3]
GRAFANA_DIR = REPO_ROOT / "deploy" / "grafana"
SCHEMA_PACKAGE = GRAFANA_DIR / "schema"
DATASOURCE_UID = "ringrift-prometheus"
"""The uid of the Prometheus datasource provisioned in
``deploy/grafana/provisioning/datasources/``; every panel and target names it."""
PANEL_TYPES = frozenset({
    "timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "histogram", "text",
    "state-timeline", "status-history", "barchart", "piechart", "logs", "row",
    "annotationslist", "dashlist", "news", "nodeGraph", "trend", "xychart", "candlestick",
    "flamegraph", "traces", "geomap", "canvas", "alertlist", "datagrid",
})
"""The panel types Grafana ships (no plugins are installed in the compose setup)."""
PROMETHEUS_TARGET_KEYS = frozenset({
    "refId", "datasource", "expr", "legendFormat", "interval", "intervalFactor", "instant",
    "range", "format", "hide", "exemplar", "editorMode", "step", "queryType", "utcOffsetSec",
})
PROMETHEUS_ANNOTATION_KEYS = frozenset({
    "expr", "step", "titleFormat", "textFormat", "tagKeys", "useValueForTime",
})


def dashboard_schema() -> Path:
    """The path of the dashboard JSON Schema, generated once per pinned package version.

    Raises:
        ToolBuildError: npm is missing or the install or generation failed.
    """
    package = json.loads((SCHEMA_PACKAGE / "package.json").read_text())
    version = package["devDependencies"]["@grafana/schema"]
    npm = shutil.which("npm")
    if npm is None:
        raise ToolBuildError("npm (Node.js) is needed to generate Grafana's dashboard schema; "
                             "install it (apt-get install npm)")

    def make(scratch: Path) -> None:
        work = scratch / "package"
        work.mkdir()
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SCHEMA_PACKAGE / name, work / name)
        run([npm, "ci", "--no-audit", "--no-fund"], what="installing @grafana/schema", cwd=work)
        run([npm, "run", "--silent", "generate"], what="generating the dashboard schema",
            cwd=work)
        (work / "dashboard.schema.json").rename(scratch / "dashboard.schema.json")
        shutil.rmtree(work)

    return ensure_directory(f"grafana-dashboard-schema-{version}", make) / "dashboard.schema.json"


def dashboard_errors(dashboard: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """What is wrong with one dashboard: schema violations first, then our own checks."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    checked = copy.deepcopy(dashboard)
    errors: list[str] = []
    for annotation in checked.get("annotations", {}).get("list", []):
        if not isinstance(annotation, dict) or annotation.get("builtIn"):
            continue
        query = {key: annotation.pop(key) for key in PROMETHEUS_ANNOTATION_KEYS & set(annotation)}
        if not str(query.get("expr", "")).strip():
            errors.append(f"annotation {annotation.get('name')!r}: no expr")
    errors += [f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
               for error in sorted(validator.iter_errors(checked), key=lambda e: e.path)]
    seen: set[Any] = set()
    for where, panel in panels(dashboard):
        errors += [f"{where}: {problem}" for problem in _panel_problems(panel)]
        if panel.get("id") in seen:
            errors.append(f"{where}: duplicate panel id {panel.get('id')}")
        seen.add(panel.get("id"))
    for kind, items in (("variable", dashboard.get("templating", {}).get("list", [])),
                        ("annotation", dashboard.get("annotations", {}).get("list", []))):
        for item in items:
            if item.get("datasource") is not None and _uid(item["datasource"]) != DATASOURCE_UID:
                errors.append(f"{kind} {item.get('name')!r}: datasource is not "
                              f"{DATASOURCE_UID!r}")
    return errors


def panels(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every panel with a readable location, rows' nested panels included."""
    for index, panel in enumerate(dashboard.get("panels", [])):
        where = f"panel {index} ({panel.get('title', '?')!r})"
        yield where, panel
        for inner, nested in enumerate(panel.get("panels", [])):
            yield f"{where} / {inner} ({nested.get('title', '?')!r})", nested


def _panel_problems(panel: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if panel.get("type") not in PANEL_TYPES:
        problems.append(f"unknown panel type {panel.get('type')!r}")
    if panel.get("type") in ("row", "text"):
        return problems
    if _uid(panel.get("datasource")) != DATASOURCE_UID:
        problems.append(f"datasource {panel.get('datasource')!r} is not the provisioned "
                        f"{DATASOURCE_UID!r}")
    if not panel.get("targets"):
        problems.append("no targets: the panel would show nothing")
    for target in panel.get("targets", []):
        ref = target.get("refId", "?")
        unknown = sorted(set(target) - PROMETHEUS_TARGET_KEYS)
        if unknown:
            problems.append(f"target {ref}: unknown keys {unknown}")
        if not str(target.get("expr", "")).strip():
            problems.append(f"target {ref}: no expr")
        if "datasource" in target and _uid(target["datasource"]) != DATASOURCE_UID:
            problems.append(f"target {ref}: datasource is not {DATASOURCE_UID!r}")
    return problems


def _uid(datasource: Any) -> str | None:
    return datasource.get("uid") if isinstance(datasource, dict) else None
