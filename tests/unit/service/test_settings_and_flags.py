"""Service settings: names derived from the service, env and flags, errors that name the fix.

Checks: a service's names (module, env prefix, metric prefix, port, database) follow
from its canonical name; settings come from ``RINGRIFT_<SERVICE>_*`` and the shared
names (``KAFKA_BOOTSTRAP_SERVERS``, ``RINGRIFT_ARTIFACT_DIR``, ``RINGRIFT_LOG_*``,
``RINGRIFT_TOPIC_NAMESPACE``), flags win over env, lists are comma-separated; a missing
or invalid setting is one error naming its env variable and flag (a secret's value is
never echoed); ``--help`` lists every setting with env name and default; the effective
settings line masks secrets and URL passwords.
"""

from __future__ import annotations

import json

import pytest
from pydantic import Field, SecretStr

from ringrift.errors import ConfigurationError
from ringrift.service.flags import build_parser, effective_settings, load_settings
from ringrift.service.names import ServiceName
from ringrift.service.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    """A demo service for the tests."""

    service = "cluster-monitor"

    token: SecretStr = Field(min_length=4)
    """The API token."""
    configs: list[str] = ["square8_2p"]
    """Configs to play."""
    flush_s: float = Field(default=2.0, gt=0)
    """Flush partial work after this many seconds."""
    verbose: bool = False
    """Talk more."""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "RINGRIFT_KAFKA_BOOTSTRAP_SERVERS",
                 "RINGRIFT_ARTIFACT_DIR", "RINGRIFT_LOG_LEVEL", "RINGRIFT_LOG_JSON",
                 "RINGRIFT_TOPIC_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RINGRIFT_CLUSTER_MONITOR_TOKEN", "s3cret")


def test_names_derive_from_the_canonical_name() -> None:
    name = ServiceName.parse("cluster_monitor")
    assert (name.name, name.module) == ("cluster-monitor", "cluster_monitor")
    assert name.env_prefix == "RINGRIFT_CLUSTER_MONITOR_"
    assert name.metric_prefix == "ringrift_cluster_monitor_"
    assert name.default_port == 8107
    assert name.default_database_url == "sqlite:///var/db/cluster-monitor.db"
    assert name.postgres_database == "ringrift_cluster_monitor"
    assert ServiceName("example").migrations_dir() is not None
    with pytest.raises(ConfigurationError, match="invalid service name"):
        ServiceName("Bad Name")
    with pytest.raises(ConfigurationError, match="no service 'nowhere'"):
        ServiceName("nowhere").package_dir()


def test_defaults_follow_the_service_and_env_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(DemoSettings, [])
    assert settings.database_url == "sqlite:///var/db/cluster-monitor.db"
    assert (settings.http_port, settings.consumer_group) == (8107, "cluster-monitor")
    assert settings.token.get_secret_value() == "s3cret"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"

    monkeypatch.setenv("RINGRIFT_CLUSTER_MONITOR_HTTP_PORT", "0")
    monkeypatch.setenv("RINGRIFT_CLUSTER_MONITOR_CONFIGS", "hex8_2p, square8_3p")
    monkeypatch.setenv("RINGRIFT_CLUSTER_MONITOR_VERBOSE", "true")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("RINGRIFT_ARTIFACT_DIR", "/data/artifacts")
    monkeypatch.setenv("RINGRIFT_LOG_LEVEL", "debug")
    monkeypatch.setenv("RINGRIFT_LOG_JSON", "1")
    monkeypatch.setenv("RINGRIFT_TOPIC_NAMESPACE", "t1")
    settings = load_settings(DemoSettings, [])
    assert settings.http_port == 0
    assert settings.configs == ["hex8_2p", "square8_3p"]
    assert settings.verbose is True
    assert settings.kafka.bootstrap_servers == "broker:9092"
    assert settings.artifacts.dir == "/data/artifacts"
    assert (settings.log.level, settings.log.json_lines) == ("DEBUG", True)
    assert settings.topic_prefix() == "t1."


def test_flags_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGRIFT_CLUSTER_MONITOR_FLUSH_S", "9")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("RINGRIFT_LOG_JSON", "1")
    settings = load_settings(DemoSettings, [
        "--flush-s", "0.5", "--configs", "hex8_4p", "--kafka-bootstrap-servers", "other:1",
        "--artifact-dir", "s3://bucket/x", "--no-log-json", "--max-events", "7",
        "--exit-when-idle", "2.5", "--http-port", "9999", "--database-url", "sqlite:///x.db"])
    assert settings.flush_s == 0.5
    assert settings.configs == ["hex8_4p"]
    assert settings.kafka.bootstrap_servers == "other:1"
    assert settings.artifacts.dir == "s3://bucket/x"
    assert settings.log.json_lines is False
    assert (settings.max_events, settings.exit_when_idle) == (7, 2.5)
    assert (settings.http_port, settings.database_url) == (9999, "sqlite:///x.db")


def test_a_missing_setting_is_named_with_env_and_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RINGRIFT_CLUSTER_MONITOR_TOKEN")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(DemoSettings, [])
    assert str(raised.value) == ("missing setting RINGRIFT_CLUSTER_MONITOR_TOKEN (flag --token)"
                                 ": Field required")


def test_invalid_settings_are_named_and_secrets_not_echoed() -> None:
    with pytest.raises(ConfigurationError, match=r"invalid setting "
                       r"RINGRIFT_CLUSTER_MONITOR_FLUSH_S \(flag --flush-s\).*got '-1'"):
        load_settings(DemoSettings, ["--flush-s", "-1"])
    with pytest.raises(ConfigurationError, match=r"RINGRIFT_CLUSTER_MONITOR_HTTP_PORT.*'http'"):
        load_settings(DemoSettings, ["--http-port", "http"])
    with pytest.raises(ConfigurationError, match=r"RINGRIFT_KAFKA_MAX_ATTEMPTS \(flag "
                       r"--kafka-max-attempts\)"):
        load_settings(DemoSettings, ["--kafka-max-attempts", "zero"])
    with pytest.raises(ConfigurationError, match="RINGRIFT_LOG_LEVEL"):
        load_settings(DemoSettings, ["--log-level", "loud"])
    with pytest.raises(ConfigurationError, match="RINGRIFT_CLUSTER_MONITOR_TOKEN") as raised:
        load_settings(DemoSettings, ["--token", "zqx"])
    assert "zqx" not in str(raised.value)


def test_help_lists_every_setting_with_env_and_default(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    with pytest.raises(SystemExit) as exited:
        load_settings(DemoSettings, ["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("--token TOKEN The API token (env RINGRIFT_CLUSTER_MONITOR_TOKEN; required)",
                     "(env RINGRIFT_CLUSTER_MONITOR_CONFIGS; default: square8_2p)",
                     "--http-port", "(env RINGRIFT_CLUSTER_MONITOR_HTTP_PORT; default: 8107)",
                     "(env RINGRIFT_CLUSTER_MONITOR_DATABASE_URL; default: "
                     "sqlite:///var/db/cluster-monitor.db)",
                     "(env RINGRIFT_KAFKA_BOOTSTRAP_SERVERS or KAFKA_BOOTSTRAP_SERVERS; default: "
                     "127.0.0.1:9092)", "--artifact-dir", "(env RINGRIFT_ARTIFACT_DIR;",
                     "--log-json, --no-log-json", "(env RINGRIFT_TOPIC_NAMESPACE;",
                     "--max-events", "--exit-when-idle", "--grace-period-s"):
        assert expected in text, expected
    parser = build_parser(DemoSettings)
    flags = {option for action in parser._actions for option in action.option_strings}
    settings_fields = set(DemoSettings.model_fields) - {"kafka", "artifacts", "log"}
    assert {f"--{name.replace('_', '-')}" for name in settings_fields} <= flags


def test_the_effective_settings_line_masks_secrets() -> None:
    settings = load_settings(DemoSettings, [
        "--database-url", "postgresql://ringrift:pa55word@db:5432/ringrift_cluster_monitor",
        "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-username", "svc",
        "--kafka-sasl-password", "kafkapw"])
    line = effective_settings(settings)
    assert "s3cret" not in line and "pa55word" not in line and "kafkapw" not in line
    shown = json.loads(line)
    assert shown["token"] == "**********"
    assert shown["kafka"]["sasl_password"] == "**********"
    assert shown["database_url"] == "postgresql://ringrift:***@db:5432/ringrift_cluster_monitor"
    assert shown["kafka"]["sasl_username"] == "svc"
