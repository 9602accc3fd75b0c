"""Every dashboard panel shows real data: Prometheus scraping a bounded pipeline run.

Every service runs as its own process under ``ringrift up``'s supervisor with the
``tiny`` budgets, on the real broker; a Prometheus from Debian's package (on loopback,
started here) scrapes each one's ``/metrics`` every second under the job names compose
uses. One malformed game is published so that the dead-letter panel has data; after the
first promotion by the gate, a second candidate is promoted and rolled back by hand
through the promoter's REST API, so the promotion and rollback annotations have data too,
and the run goes on until a second evaluation is done (a histogram's first observation
creates its series, so only the second one shows in a rate).
Then every query of every panel, variable and annotation of the committed dashboards is
run over the run's time range with Grafana's variables and macros substituted, and the
test fails on any that does not parse or returns nothing. GPU panels are asked for data
only when the node agent reports a GPU (their queries must parse everywhere).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer

from ringrift.deploy.dashboard_data import TimeRange, empty_queries, substitute
from ringrift.deploy.dashboards import DASHBOARDS
from ringrift.deploy.generate import DASHBOARD_DIR
from ringrift.events.topics import GAME_COMPLETED
from ringrift.localinfra.prometheus import LocalPrometheus, PromQLError
from ringrift.pipeline.bootstrap import namespaced
from ringrift.pipeline.processes import pipeline_processes
from ringrift.pipeline.run import Pipeline
from ringrift.pipeline.settings import UpSettings
from ringrift.pipeline.supervisor import FAILED

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
RUN_TIMEOUT_S = 2700  # the whole run on a loaded two-core machine; minutes on a quiet one
ROOT = Path(__file__).resolve().parents[3]
TRAINER_ABSENT = not (ROOT / "services" / "trainer" / "main.py").is_file()
CONFIG = "square8_2p"
SCRAPE_S = 1.0
QUICK = {"RINGRIFT_KAFKA_SESSION_TIMEOUT_MS": "6000",
         "RINGRIFT_KAFKA_RETRY_BACKOFF_INITIAL_S": "0.05",
         "RINGRIFT_KAFKA_RETRY_BACKOFF_MAX_S": "0.5"}
# The promoter refreshes its per-state counts every second (the panels read them).
OVERRIDES = ("promoter.refresh_every_s=1",)
GPU_PANELS = {panel.title for dashboard in DASHBOARDS for panel in dashboard.panels()
              if panel.needs_gpu}


def test_substitution_is_grafanas() -> None:
    span = TimeRange(start=1000.0, end=1300.0, scrape_interval_s=1.0)
    values = {"config": "(square8_2p|hex8_3p)", **span.macros()}
    assert substitute('rate(x{config=~"$config"}[$__rate_interval]) + y[${__range}]',
                      values) == 'rate(x{config=~"(square8_2p|hex8_3p)"}[4s]) + y[300s]'
    with pytest.raises(KeyError, match=r"\$node"):
        substitute('x{node=~"$node"}', values)


@pytest.mark.skipif(TRAINER_ABSENT, reason="services/trainer is not on this branch yet: no "
                    "candidate, rating or promotion could ever show")
@pytest.mark.timeout(RUN_TIMEOUT_S)
def test_every_panel_shows_data_from_a_pipeline_run(kafka_bootstrap: str,
                                                    tmp_path: Path) -> None:
    processes, missing = pipeline_processes()
    assert not missing, f"services missing: {missing}"
    settings = UpSettings(var_dir=tmp_path / "var", profile="tiny",
                          namespace=f"dash{uuid.uuid4().hex[:8]}", overrides=OVERRIDES,
                          bootstrap_servers=kafka_bootstrap, fixed_ports=False, grace_s=20,
                          extra_env=QUICK)
    pipeline = Pipeline(settings, echo=lambda _line: None).start()
    try:
        supervisor = pipeline.supervisor
        assert supervisor is not None and pipeline.monitor is not None
        targets = {f"ringrift-{process.name}": f"127.0.0.1:{supervisor.port(process.name)}"
                   for process in processes}
        with LocalPrometheus(tmp_path / "prometheus", targets,
                             scrape_interval_s=SCRAPE_S) as prometheus:
            start = time.time()
            publish_malformed_game(settings)
            config = pipeline.monitor.state.config(CONFIG)
            wait(pipeline, "a promotion by the gate", lambda: config.promotions >= 1, 1500)
            promote_and_roll_back(pipeline)
            # A labelled histogram's series starts with its first observation, which no
            # rate can see: the latency panels need a second candidate and evaluation.
            wait(pipeline, "the rollback, the dead letter and two evaluations in Prometheus",
                 lambda: all(seen(prometheus, expr) for expr in (
                     "ringrift_promoter_rollbacks_total > 0",
                     "ringrift_events_dead_lettered_total > 0",
                     "sum(ringrift_evaluator_evaluations_total) >= 2",
                     "sum(ringrift_trainer_candidates_total) >= 2")), 900)
            time.sleep(5 * SCRAPE_S)  # a few scrapes after the last event, for the rates
            span = TimeRange(start, time.time(), SCRAPE_S)
            has_gpu = seen(prometheus, "ringrift_cluster_monitor_gpu_memory_size_bytes")
            problems = []
            for path in sorted(DASHBOARD_DIR.glob("*.json")):
                dashboard = json.loads(path.read_text())
                problems += empty_queries(dashboard, prometheus, span, skip=lambda where: (
                    not has_gpu and any(where.startswith(repr(t)) for t in GPU_PANELS)))
    finally:
        pipeline.stop()
    assert problems == [], "\n".join(problems)


def test_a_query_that_does_not_parse_or_shows_nothing_is_named(tmp_path: Path) -> None:
    # A target nobody listens on: its `up` is 0, a value.
    with LocalPrometheus(tmp_path / "prometheus", {"nobody": "127.0.0.1:1"}) as prometheus:
        start, deadline = time.time(), time.monotonic() + 120
        while not seen(prometheus, "up"):
            assert time.monotonic() < deadline, "Prometheus scraped nothing in 120 s"
            time.sleep(0.5)
        now = time.time()
        dashboard = {"uid": "broken", "templating": {"list": []},
                     "annotations": {"list": [{"name": "nothing", "expr": "absent_metric"}]},
                     "panels": [{"title": "typo", "targets": [{"refId": "A",
                                                               "expr": "sum by (job (up)"}]},
                                {"title": "fine", "targets": [{"refId": "A", "expr": "up"}]}]}
        problems = empty_queries(dashboard, prometheus, TimeRange(start, now, 1.0))
    assert len(problems) == 2, problems
    assert problems[0].startswith("broken 'typo' A: does not run: ")
    assert problems[1] == "broken annotation 'nothing': no data for absent_metric"


def publish_malformed_game(settings: UpSettings) -> None:
    """A record on the game topic that is no event: the exporter dead-letters it."""
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers})
    producer.produce(namespaced(settings, GAME_COMPLETED).name, key=CONFIG.encode(),
                     value=b"not an event")
    assert producer.flush(30) == 0


def promote_and_roll_back(pipeline: Pipeline) -> None:
    """Promote a second model by hand, then roll back to the one before it."""
    assert pipeline.infrastructure is not None
    api = f"{pipeline.promoter_url}/api/v1"
    headers = {"Authorization": f"Bearer {pipeline.infrastructure.token}"}

    def other_model() -> str | None:
        answer = httpx.get(f"{api}/configs/{CONFIG}/models", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        models = answer.json()["models"]
        return next((m["model_id"] for m in models
                     if m["state"] != "promoted" and not m["current"]), None)

    def act(path: Callable[[], str]) -> None:
        # 409: the gate decided in between (the model was promoted, the revision moved).
        for _attempt in range(5):
            answer = httpx.post(f"{api}/{path()}", json={"reason": "dashboard test"},
                                headers=headers, timeout=30)
            if answer.status_code != 409:
                break
        assert answer.status_code == 200, (path(), answer.text)

    wait(pipeline, "a second candidate", lambda: other_model() is not None, 900)
    act(lambda: f"models/{other_model()}/promote")
    act(lambda: f"configs/{CONFIG}/rollback")


def seen(prometheus: LocalPrometheus, expr: str) -> bool:
    try:
        return bool(prometheus.query(expr))
    except PromQLError:
        return False


def wait(pipeline: Pipeline, what: str, condition: Callable[[], object], timeout: float) -> None:
    """Wait for ``condition``; fail naming the services' states if it does not come, or at
    once if a service failed for good."""
    deadline = time.monotonic() + timeout
    while not condition():
        statuses = pipeline.supervisor.status() if pipeline.supervisor else []
        failed = [status for status in statuses if status.state == FAILED]
        if failed or time.monotonic() > deadline:
            states = "\n".join(f"  {s.name} {s.state} restarts {s.restarts} exit "
                               f"{s.last_exit} {s.message} log {s.log_path}" for s in statuses)
            raise AssertionError(f"no {what} after {timeout:.0f} s:\n{states}")
        time.sleep(1.0)
