"""Does every dashboard query show data? Each one run against a Prometheus, as Grafana would.

Grafana substitutes its variables and macros before it sends a panel's query:
``$__interval`` (the step), ``$__rate_interval`` (the step plus one scrape interval, at
least four scrape intervals), ``$__range`` (the time range), and each dashboard variable
(a multi-value one as the regex ``(a|b)``). :func:`empty_queries` does the same, runs
every panel target, variable and annotation query over a time range, and names each one
that does not parse or yields no value at all (a panel that would say "No data").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ringrift.deploy.dashboard_model import queries
from ringrift.localinfra.prometheus import LocalPrometheus, PromQLError

_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_LABEL_VALUES = re.compile(r"^label_values\((?P<metric>[^,]+),\s*(?P<label>\w+)\)$")


@dataclass(frozen=True)
class TimeRange:
    """The range the queries are run over, and the scrape interval behind the data."""

    start: float
    end: float
    scrape_interval_s: float

    @property
    def step_s(self) -> float:
        return 2 * self.scrape_interval_s

    @property
    def first_step(self) -> float:
        """The first evaluation time: the steps end exactly at ``end``, so the newest
        samples are seen."""
        return self.end - math.ceil((self.end - self.start) / self.step_s) * self.step_s

    def macros(self) -> dict[str, str]:
        rate = max(self.step_s + self.scrape_interval_s, 4 * self.scrape_interval_s)
        return {"__interval": f"{self.step_s:g}s", "__rate_interval": f"{rate:g}s",
                "__range": f"{max(1, round(self.end - self.start))}s"}


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with ``$name`` / ``${name}`` replaced.

    Raises:
        KeyError: a variable has no value.
    """
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for ${name}")
        return values[name]

    return _VARIABLE.sub(value, expr)


def variable_values(dashboard: dict[str, Any], prometheus: LocalPrometheus) -> dict[str, str]:
    """Each variable as Grafana would set it with every value selected: ``(a|b|...)``."""
    values: dict[str, str] = {}
    for variable in dashboard["templating"]["list"]:
        match = _LABEL_VALUES.match(variable["query"]["query"])
        assert match, f"variable ${variable['name']}: only label_values(metric, label) is used"
        found = prometheus.label_values(match["label"], match["metric"])
        values[variable["name"]] = "(" + "|".join(re.escape(v) for v in found) + ")"
    return values


def empty_queries(dashboard: dict[str, Any], prometheus: LocalPrometheus, span: TimeRange,
                  skip: Callable[[str], bool] = lambda _where: False) -> list[str]:
    """Every query of ``dashboard`` that does not parse or returns no value over ``span``.

    Args:
        dashboard: a rendered dashboard (Grafana's JSON model).
        prometheus: the server that scraped the run.
        span: the run's time range.
        skip: the locations (as :func:`ringrift.deploy.dashboard_model.queries` names them)
            not to ask for data, e.g. GPU panels on a machine without GPUs; their queries
            must still parse.

    Returns:
        One line per failing query: where it is, the query as sent, and why.
    """
    values = variable_values(dashboard, prometheus)
    problems = [f"{dashboard['uid']} variable ${name}: no values"
                for name, value in values.items() if value == "()"]
    values.update(span.macros())
    for where, expr in queries(dashboard):
        if where.startswith("variable "):
            continue
        sent = substitute(expr, values)
        try:
            series = prometheus.query_range(sent, span.first_step, span.end, span.step_s)
        except PromQLError as error:
            problems.append(f"{dashboard['uid']} {where}: does not run: {error}")
            continue
        if not skip(where) and not any(_finite(series_values) for series_values in series):
            problems.append(f"{dashboard['uid']} {where}: no data for {sent}")
    return problems


def _finite(series: dict[str, Any]) -> bool:
    return any(math.isfinite(float(value)) for _at, value in series.get("values", []))
