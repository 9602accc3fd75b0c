"""The HTTP server's probes and metrics over real HTTP, and the metric naming helper.

Checks: port 0 gets a free port; ``/healthz`` is 200 while the heartbeat is fresh and 503
once it is older than the timeout; ``/readyz`` is 503 naming each failing check (a check
that raises fails with its error) and 200 once all pass, and 503 again when stopping;
``/metrics`` serves the Prometheus text format; a service's own routes share the port;
a port in use is refused with the flag to change. Metric names follow
``ringrift_<service>_<what>_<unit>``; a repeated declaration returns the same metric, a
conflicting one is refused.
"""

from __future__ import annotations

import socket

import httpx
import pytest
from prometheus_client import Counter

from ringrift.errors import ConfigurationError
from ringrift.service import metrics
from ringrift.service.health import Health
from ringrift.service.http import HttpServer


@pytest.fixture
def server():
    health = Health(heartbeat_timeout_s=30)
    server = HttpServer(health, "127.0.0.1", 0)

    @server.app.get("/models")
    def models() -> dict[str, list[str]]:
        return {"models": ["m1"]}

    server.start()
    yield server
    server.stop()


def _get(server: HttpServer, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=10)


def test_port_zero_picks_a_free_port_and_own_routes_share_it(server: HttpServer) -> None:
    assert server.port > 0
    assert _get(server, "/models").json() == {"models": ["m1"]}


def test_healthz_follows_the_heartbeat(server: HttpServer, monkeypatch) -> None:
    response = _get(server, "/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    heartbeat = server.health.heartbeat
    monkeypatch.setattr(heartbeat, "age_s", lambda: 31.0)
    response = _get(server, "/healthz")
    assert response.status_code == 503
    assert "has not turned for 31 s" in response.json()["checks"]["heartbeat"]


def test_readyz_names_each_failing_check(server: HttpServer) -> None:
    state = {"model": None}
    server.health.add_check("model", lambda: None if state["model"] else "no model yet")

    def broken() -> str | None:
        raise RuntimeError("probe exploded")

    server.health.add_check("broken", broken)
    response = _get(server, "/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "checks": {
        "model": "no model yet", "broken": "the check failed: RuntimeError: probe exploded"}}
    with pytest.raises(ValueError, match="exists already"):
        server.health.add_check("model", lambda: None)


def test_readyz_passes_when_every_check_does_until_stopping(server: HttpServer) -> None:
    server.health.add_check("model", lambda: None)
    response = _get(server, "/readyz")
    assert (response.status_code, response.json()["checks"]) == (200, {"model": "ok"})
    server.health.mark_stopping()
    response = _get(server, "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["shutdown"] == "shutting down"


def test_metrics_serves_the_prometheus_text_format(server: HttpServer) -> None:
    games = metrics.counter("example", "http_test_games", "Games in the HTTP test.", ["config"])
    games.labels("hex8_2p").inc(3)
    response = _get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'ringrift_example_http_test_games_total{config="hex8_2p"} 3.0' in response.text


def test_a_port_in_use_is_refused_naming_the_flag() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = HttpServer(Health(30), "127.0.0.1", squatter.getsockname()[1])
        with pytest.raises(ConfigurationError, match="--http-port"):
            busy.start()


def test_metric_names_follow_the_scheme() -> None:
    assert metrics.metric_name("cluster-monitor", "nodes_lost") == \
        "ringrift_cluster_monitor_nodes_lost"
    assert metrics.metric_name("selfplay", "model_age", "seconds") == \
        "ringrift_selfplay_model_age_seconds"
    age = metrics.gauge("selfplay", "naming_test_age", "seconds", "Age.", ["config"])
    assert age is metrics.gauge("selfplay", "naming_test_age", "seconds", "Age.", ["config"])
    assert isinstance(metrics.counter("trainer", "naming_test_rejected", "Seconds.",
                                      unit="seconds"), Counter)
    with pytest.raises(ValueError, match="declared already"):
        metrics.counter("selfplay", "naming_test_age", "Age.", unit="seconds")
    with pytest.raises(ValueError, match="needs a unit"):
        metrics.gauge("selfplay", "naming_test_depth", "", "Depth.")
    with pytest.raises(ValueError, match="snake_case"):
        metrics.counter("selfplay", "Games-Played", "Games.")
    with pytest.raises(ValueError, match="_total"):
        metrics.counter("selfplay", "games_total", "Games.")
