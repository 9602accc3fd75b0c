"""A local Prometheus on loopback: scrapes given targets, answers PromQL over HTTP.

Debian's ``prometheus`` package provides the server (installed on first use, like etcd).
:class:`LocalPrometheus` writes a scrape configuration for the targets it is given (one job
per target, named as compose's scrape jobs are, so the dashboards' ``job`` matchers hold),
starts the server in the foreground with its data in a scratch directory, and offers
:meth:`LocalPrometheus.query_range` and :meth:`LocalPrometheus.label_values` for checks
such as "every dashboard panel shows data". Used by the deploy tests; never a shared server.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from ringrift.errors import RingriftError
from ringrift.localinfra.debian import ensure_program
from ringrift.localinfra.kafka import free_port
from ringrift.localinfra.process import Launcher, ServerProcess


class PromQLError(RingriftError):
    """Prometheus refused a query (it does not parse, or cannot be evaluated)."""


class LocalPrometheus(Launcher):
    """Prometheus scraping ``targets`` every ``scrape_interval_s`` seconds.

    Args:
        work_dir: its configuration, data and log.
        targets: job name -> ``host:port`` of a ``/metrics`` endpoint.
        scrape_interval_s: how often each target is scraped.
        port: the HTTP port (loopback); a free one when None.
    """

    def __init__(self, work_dir: Path, targets: Mapping[str, str], *,
                 scrape_interval_s: float = 1.0, port: int | None = None) -> None:
        self.work_dir = work_dir
        self.targets = dict(targets)
        self.scrape_interval_s = scrape_interval_s
        self.port = port or free_port()
        self.server = ServerProcess("prometheus", work_dir / "prometheus.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        """The scrape configuration it runs with."""
        interval = f"{self.scrape_interval_s:g}s"
        return {"global": {"scrape_interval": interval, "scrape_timeout": interval,
                           "evaluation_interval": interval},
                "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}
                                   for job, target in sorted(self.targets.items())]}

    def start(self) -> LocalPrometheus:
        """Start the server; returns once its HTTP port answers.

        Raises:
            PackageInstallError: Prometheus is missing and cannot be installed.
            ServerStartError: it did not start (the message has its log's tail).
        """
        program = ensure_program("prometheus", "prometheus")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        self.server.start([str(program), f"--config.file={config}",
                           f"--storage.tsdb.path={self.work_dir / 'data'}",
                           f"--web.listen-address=127.0.0.1:{self.port}",
                           "--storage.tsdb.retention.time=1d", "--log.level=warn"],
                          port=self.port, timeout=60)
        return self

    def stop(self) -> None:
        self.server.stop()

    def query_range(self, expr: str, start: float, end: float, step_s: float
                    ) -> list[dict[str, Any]]:
        """The series ``expr`` yields from ``start`` to ``end`` (Unix seconds).

        Raises:
            PromQLError: the query does not parse or fails to evaluate.
        """
        return self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end,
                                                  "step": step_s})["result"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """``expr`` evaluated now.

        Raises:
            PromQLError: the query does not parse or fails to evaluate.
        """
        return self._get("/api/v1/query", {"query": expr})["result"]

    def label_values(self, label: str, metric: str) -> list[str]:
        """The values of ``label`` on the series of ``metric`` (Grafana's ``label_values``)."""
        return list(self._get(f"/api/v1/label/{label}/values", {"match[]": metric}))

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        answer = httpx.get(self.url + path, params=params, timeout=30)
        body = answer.json()
        if answer.status_code != 200 or body.get("status") != "success":
            raise PromQLError(f"{params.get('query', path)}: {body.get('errorType')}: "
                              f"{body.get('error')}")
        return body["data"]
