"""How each process of the pipeline is started: command, environment, database, port.

Checks: every service is started with ``ringrift service run``; each process has its own
database (a SQLite file per process, the agent apart from the monitor; on PostgreSQL the
database ``ringrift_<process>`` on the given server); fixed ports are the defaults (the
agent on 8108) and free ports are 0; the operator token goes to the promoter only; the
run's configs, device and trainer work directory become flags; ``--set`` comes last;
an operator token is made once, kept with mode 0600 and reused; ``DATABASE_URL`` must
name PostgreSQL; settings refuse unknown configs.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ringrift.errors import ConfigurationError
from ringrift.pipeline.bootstrap import operator_token, prepare
from ringrift.pipeline.processes import PIPELINE, database_url, process_specs
from ringrift.pipeline.settings import UpSettings
from ringrift.pipeline.supervisor import ProcessSpec

BY_NAME = {process.name: process for process in PIPELINE}


def specs(settings: UpSettings) -> dict[str, ProcessSpec]:
    return {spec.name: spec for spec in process_specs(
        settings, list(PIPELINE), bootstrap_servers="127.0.0.1:1234", token="rrt_secret")}


def test_each_process_runs_its_service_with_its_own_database_and_port(tmp_path: Path) -> None:
    by_name = specs(UpSettings(var_dir=tmp_path / "var", grace_s=10))
    assert set(by_name) == set(BY_NAME)
    urls = set()
    for name, spec in by_name.items():
        process = BY_NAME[name]
        prefix = process.service_name.env_prefix
        assert spec.command[1:6] == ("-m", "ringrift.cli.main", "service", "run",
                                     process.service)
        assert spec.env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:1234"
        assert spec.env["RINGRIFT_ARTIFACT_DIR"] == str(tmp_path / "var" / "artifacts")
        assert spec.env[f"{prefix}HTTP_HOST"] == "127.0.0.1"
        assert spec.env[f"{prefix}GRACE_PERIOD_S"] == "10"
        assert spec.grace_s == 15
        urls.add(spec.env[f"{prefix}DATABASE_URL"])
        if name != "promoter":
            assert spec.env.get("RINGRIFT_PROMOTER_API_TOKEN") != "rrt_secret"
    assert len(urls) == len(by_name)  # none shares a database
    assert by_name["cluster-monitor-agent"].env["RINGRIFT_CLUSTER_MONITOR_DATABASE_URL"] == \
        f"sqlite:///{tmp_path / 'var' / 'db' / 'cluster-monitor-agent.db'}"
    assert by_name["cluster-monitor-agent"].env["RINGRIFT_CLUSTER_MONITOR_HTTP_PORT"] == "8108"
    assert by_name["promoter"].env["RINGRIFT_PROMOTER_HTTP_PORT"] == "8105"
    assert by_name["promoter"].env["RINGRIFT_PROMOTER_API_TOKEN"] == "rrt_secret"
    assert "--role" in by_name["cluster-monitor-agent"].command


def test_free_ports_configs_device_and_overrides(tmp_path: Path) -> None:
    settings = UpSettings(var_dir=tmp_path, configs=("square8_2p", "hex8_3p"), device="cuda",
                          fixed_ports=False, overrides=("trainer.batch_size=256",))
    by_name = specs(settings)
    assert by_name["selfplay"].env["RINGRIFT_SELFPLAY_HTTP_PORT"] == "0"
    trainer = by_name["trainer"].command
    assert trainer[trainer.index("--configs") + 1] == "square8_2p,hex8_3p"
    assert trainer[trainer.index("--device") + 1] == "cuda"
    assert trainer[trainer.index("--work-dir") + 1] == str(tmp_path / "trainer")
    assert trainer[-2:] == ("--batch-size", "256")  # the override is last: it wins
    assert "--device" not in by_name["exporter"].command


def test_postgresql_gives_each_process_a_database_on_that_server(tmp_path: Path) -> None:
    settings = UpSettings(var_dir=tmp_path,
                          database_url="postgresql://ringrift:pw@127.0.0.1:54329/ringrift")
    assert database_url(settings, BY_NAME["cluster-monitor-agent"]) == \
        "postgresql+psycopg://ringrift:pw@127.0.0.1:54329/ringrift_cluster_monitor_agent"
    assert database_url(settings, BY_NAME["exporter"]).endswith("/ringrift_exporter")


def test_database_url_must_be_postgresql(tmp_path: Path) -> None:
    settings = UpSettings(var_dir=tmp_path, database_url="sqlite:///one.db")
    with pytest.raises(ConfigurationError, match="unset DATABASE_URL to use SQLite files"):
        prepare(settings, [], echo=lambda _line: None)


def test_the_operator_token_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "up" / "operator-token"
    token, created = operator_token(path)
    assert created and token.startswith("rrt_") and len(token) == 47
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert operator_token(path) == (token, False)


def test_unknown_configs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown config"):
        UpSettings(var_dir=tmp_path, configs=("square9_2p",))
