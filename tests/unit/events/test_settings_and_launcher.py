"""Settings from the environment, partition keys, and the launcher's pure parts.

Checks: KAFKA_BOOTSTRAP_SERVERS is honoured; unsafe settings are refused at start; the
partition key follows the registry; the broker config keeps auto-creation off; cluster
ids have the format KRaft requires; every ``--kafka-*`` flag of a service explains itself in
``--help`` (the fields' docstrings).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from ringrift.errors import ConfigurationError
from ringrift.events.envelope import new_event
from ringrift.events.gen.ops.v1.ops_pb2 import NodeStatus
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.producer import partition_key
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import CLUSTER_STATUS, GAME_COMPLETED, NODE_STATUS
from ringrift.localinfra.kafka import new_cluster_id, server_properties
from ringrift.service.flags import build_parser
from services.example.settings import ExampleSettings


def test_bootstrap_servers_from_the_plain_environment_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RINGRIFT_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9999")
    assert KafkaSettings().client_config()["bootstrap.servers"] == "broker:9999"


def test_unsafe_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="SASL_USERNAME"):
        KafkaSettings(bootstrap_servers="b:1", sasl_mechanism="PLAIN")
    with pytest.raises(ValidationError):
        KafkaSettings(bootstrap_servers="b:1", session_timeout_ms=100)


def test_password_is_masked() -> None:
    settings = KafkaSettings(bootstrap_servers="b:1", sasl_mechanism="PLAIN",
                             sasl_username="u", sasl_password="hunter2")
    assert "hunter2" not in repr(settings)
    assert settings.client_config()["sasl.password"] == "hunter2"


def test_partition_keys_follow_the_registry() -> None:
    game = new_event(GameCompleted(), config_key="hex8_3p", producer="selfplay")
    assert partition_key(GAME_COMPLETED, game) == "hex8_3p"
    assert partition_key(CLUSTER_STATUS, game) == "all"
    node = new_event(NodeStatus(node_id="gpu-7"), config_key="all", producer="cluster-monitor")
    assert partition_key(NODE_STATUS, node) == "gpu-7"


def test_server_properties_turn_auto_creation_off() -> None:
    text = server_properties(Path("/data"), 19092, 19093)
    assert "auto.create.topics.enable=false" in text
    assert "advertised.listeners=PLAINTEXT://127.0.0.1:19092" in text
    assert "controller.quorum.voters=1@127.0.0.1:19093" in text


def test_cluster_ids_are_16_bytes_base64url() -> None:
    for _ in range(50):
        cid = new_cluster_id()
        assert not cid.startswith("-") and "=" not in cid
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_every_kafka_flag_has_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser(ExampleSettings)
    kafka = {action.option_strings[0]: action.help or "" for action in parser._actions
             if action.option_strings and action.option_strings[0].startswith("--kafka-")}
    assert set(kafka) == {"--kafka-" + name.replace("_", "-")
                          for name in KafkaSettings.model_fields}
    # The help is "<what it does> (env NAME; default: X)": the part before the env is the
    # field's docstring, and none may be empty.
    undocumented = [flag for flag, text in kafka.items() if not text.split("(env ")[0].strip()]
    assert not undocumented, undocumented
    parser.print_help()
    text = " ".join(capsys.readouterr().out.split())
    assert ("--kafka-max-attempts MAX_ATTEMPTS Attempts for a handler error that is neither "
            "poison nor an outage") in text
