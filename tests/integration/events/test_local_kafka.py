"""The local broker launcher, as users and CI run it.

Checks: ``ringrift infra kafka start|status|stop`` starts a persistent broker in its
data dir, reports it, survives a stop/start with its topics kept, and stops it; a
broker that cannot start fails with its own log in the error.
"""

from __future__ import annotations

import socket

import pytest
from confluent_kafka.admin import AdminClient

from ringrift.cli.main import main as ringrift
from ringrift.localinfra.kafka import KafkaStartError, LocalKafka, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_infra_kafka_start_status_stop(tmp_path, capsys) -> None:
    port, data = free_port(), tmp_path / "kafka"
    base = ["infra", "kafka"]
    options = ["--port", str(port), "--data-dir", str(data)]
    try:
        assert ringrift([*base, "start", *options]) == 0
        assert f"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}" in capsys.readouterr().out
        assert ringrift([*base, "status", *options]) == 0
        assert "running" in capsys.readouterr().out
        bootstrap = f"127.0.0.1:{port}"
        assert ringrift(["events", "topics", "create", "--bootstrap-servers", bootstrap]) == 0
        assert ringrift([*base, "stop", *options]) == 0
        assert ringrift([*base, "status", *options]) == 3
        # Restarted on the same data dir, the broker keeps its topics.
        assert ringrift([*base, "start", *options]) == 0
        topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).topics
        assert "ringrift.model.current.v1" in topics
        assert "ringrift.model.current.v1.dlq" in topics
    finally:
        ringrift([*base, "stop", *options])
    assert (data / "broker.log").exists()


def test_a_broker_that_cannot_start_shows_its_log(tmp_path) -> None:
    with socket.socket() as squatter:  # something else holds the controller's port
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        broker = LocalKafka(tmp_path / "bad", controller_port=squatter.getsockname()[1],
                            start_timeout=120)
        with pytest.raises(KafkaStartError) as raised:
            broker.start()
        broker.stop()
    message = str(raised.value)
    assert "the Kafka broker exited with code" in message
    assert "Address already in use" in message, message
