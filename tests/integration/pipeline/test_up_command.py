"""``ringrift up`` as users run it: its own local broker, Ctrl-C, and a second run resuming.

Checks: a first run starts the local broker (the project's launcher, data under
``VAR_DIR/kafka``), creates the topics, migrates a database per process, makes the
operator token, starts every service with a log of its own, and on SIGINT (Ctrl-C) stops
the services, then the broker it started, exiting 0 and printing where the time went; a
second run finds the broker's data (the topics are there already) and the same token,
and ``--duration`` ends it by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ringrift.localinfra.kafka import free_port, running_broker_pid
from ringrift.pipeline.processes import pipeline_processes

pytestmark = pytest.mark.slow


def up(var: Path, port: int, *flags: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "RINGRIFT_TOPIC_NAMESPACE")}
    return subprocess.Popen(
        [sys.executable, "-m", "ringrift.cli.main", "up", "--plain", "--var-dir", str(var),
         "--kafka-port", str(port), "--free-ports", "--profile", "tiny",
         "--grace-period-s", "20", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=var.parent)


def test_a_run_stops_on_ctrl_c_and_the_next_one_resumes(tmp_path: Path) -> None:
    var, port = tmp_path / "var", free_port()
    processes, _ = pipeline_processes()
    first = up(var, port)
    try:
        deadline = time.monotonic() + 600
        while not all((var / "log" / f"{process.name}.log").exists() for process in processes):
            assert first.poll() is None, first.stdout.read() if first.stdout else ""
            assert time.monotonic() < deadline, "the services were not started"
            time.sleep(0.5)
        broker = running_broker_pid(var / "kafka")
        assert broker is not None
        first.send_signal(signal.SIGINT)
        output, _ = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, output
    assert "kafka: starting Kafka" in output and "topics: 20 created" in output
    assert f"databases: {len(processes)} at the newest schema" in output
    assert "operator token made now: rrt_" in output
    token = (var / "up" / "operator-token").read_text().strip()
    assert token in output
    assert "stopping the Kafka broker" in output and "where the time went" in output
    assert running_broker_pid(var / "kafka") is None
    for process in processes:
        assert f"{process.name} started" in output
        assert f"{process.name} stopped" in output, output
        assert "service died" not in output

    second = up(var, port, "--duration", "1")
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    assert "topics: 0 created, 20 there already" in output
    assert f"operator token: {token}" in output
    assert running_broker_pid(var / "kafka") is None
