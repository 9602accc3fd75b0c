"""The example service run as users run it (``ringrift service run example``), over real HTTP
and the real broker.

Checks: ``/readyz`` stays 503 while a table's topic is missing (work has not even started:
the group has no member) and turns 200 only once the table reader caught up and the
group assigned partitions; a service check (``--require-model``) holds readiness until a
current model arrives; ``/healthz`` answers 200; ``/metrics`` shows the backbone's counts,
handling lag and consumer lag per partition, and the service's own metrics; SIGTERM exits
0 within the grace period and leaves the group, with the offsets of everything handled
committed; a SIGKILL mid-stream and a restart count every game once; a shutdown that
outlasts the grace period ends with status 1; ``--max-events`` and ``--exit-when-idle`` end the process by themselves; a
database at an old schema, an invalid setting and a missing broker address stop it at
start naming the fix; ``--help`` lists the settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from ringrift.events.envelope import new_event
from ringrift.events.gen.model.v1.model_pb2 import CurrentModel
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted
from ringrift.events.topics import CLUSTER_STATUS, GAME_COMPLETED, MODEL_CURRENT
from ringrift.storage.database import make_engine, session_scope
from services.example.tables import GameCount
from tests.fixtures.services import ServiceEnv, ServiceProcess
from tests.integration.events.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
REPO_ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ("square8_2p", "hex8_3p", "square19_4p")


def games(count: int, prefix: str = "g") -> list:
    return [new_event(GameCompleted(game_id=f"{prefix}{index}", config_key=CONFIGS[index % 3],
                                    num_moves=index), config_key=CONFIGS[index % 3],
                      producer="selfplay") for index in range(count)]


def current_model(config_key: str, revision: int):
    return new_event(CurrentModel(config_key=config_key, model_id=f"m{revision}",
                                  revision=revision), config_key=config_key, producer="promoter")


def counted(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine, read_only=True) as session:
            return int(session.scalar(select(func.coalesce(func.sum(GameCount.games), 0))))
    finally:
        engine.dispose()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def members(env: ServiceEnv, group: str) -> list:
    admin = AdminClient(env.kafka.client_config())
    return admin.describe_consumer_groups([group])[group].result(timeout=30).members


def committed(env: ServiceEnv, group: str) -> int:
    topic = env.topic(GAME_COMPLETED)
    consumer = Consumer(env.kafka.client_config() | {"group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic.name, p)
                                      for p in range(topic.partitions)], timeout=30)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()


def test_ready_only_once_tables_caught_up_and_partitions_assigned(
        bare_service_env: ServiceEnv) -> None:
    env = bare_service_env
    env.create([GAME_COMPLETED])  # the model topic comes later
    env.migrate("example")
    group = f"example-{env.namespace}"
    service = env.start("example", "--consumer-group", group, "--require-model", "hex8_3p")
    waiting = service.wait_for("/readyz", 503).json()["checks"]
    assert "does not exist" in waiting["tables"], waiting
    assert waiting["model"] == "no current model of hex8_3p yet"
    assert service.get("/healthz").status_code == 200
    assert members(env, group) == []  # no work before the tables are read

    env.create([MODEL_CURRENT, CLUSTER_STATUS])
    env.publish(MODEL_CURRENT, [current_model("hex8_3p", r) for r in range(1, 30)])
    ready = service.wait_for("/readyz", 200).json()["checks"]
    assert ready == {"database": "ok", "tables": "ok", "consumer": "ok", "relay": "ok",
                     "model": "ok"}
    assert len(members(env, group)) == 1
    assert samples(service.get("/metrics").text)[(
        "ringrift_events_table_caught_up", (("topic", env.topic(MODEL_CURRENT).name),))] == 1
    service.terminate()
    assert service.wait() == 0


def test_metrics_show_backbone_counts_lag_and_service_metrics(service_env: ServiceEnv) -> None:
    service_env.migrate("example")
    group = f"example-{service_env.namespace}"
    service_env.publish(GAME_COMPLETED, games(30))
    service = service_env.start("example", "--consumer-group", group)
    topic = service_env.topic(GAME_COMPLETED).name

    def scraped() -> dict:
        return samples(service.get("/metrics").text)

    def lag() -> dict:
        return {labels: value for (name, labels), value in scraped().items()
                if name == "ringrift_events_consumer_lag_records" and ("group", group) in labels}

    service.wait_for("/readyz", 200)
    consumed = ("ringrift_events_consumed_total", (("group", group), ("topic", topic)))
    wait_until(lambda: scraped().get(consumed) == 30, 120, "30 games consumed")
    # One gauge per partition, from the position and the high watermark: 0 once all is read.
    wait_until(lambda: len(lag()) == 12 and not any(lag().values()), 120, "lag 0 everywhere")
    metrics = scraped()
    assert metrics[("ringrift_events_handling_lag_seconds_count", (("group", group),))] == 30
    assert metrics[("ringrift_example_games_counted_total", (("config", "hex8_3p"),))] >= 10
    assert metrics[("ringrift_service_ready", (("service", "example"),))] == 1
    assert metrics[("ringrift_service_info", (("service", "example"),
                                               ("version", _version())))] == 1
    service.terminate()
    assert service.wait() == 0


def test_sigterm_exits_0_in_the_grace_period_commits_and_leaves(service_env: ServiceEnv
                                                                ) -> None:
    url = service_env.migrate("example")
    group = f"example-{service_env.namespace}"
    service_env.publish(GAME_COMPLETED, games(20))
    service = service_env.start("example", "--consumer-group", group, "--grace-period-s", "20",
                                env=service_env.env(
                                    "example", RINGRIFT_KAFKA_AUTO_COMMIT_INTERVAL_MS="600000"))
    service.wait_for("/readyz", 200)
    wait_until(lambda: counted(url) == 20, 120, "20 games counted")
    service.terminate()
    assert service.wait(timeout=30) == 0, service.log()
    assert "stopped after 20 event(s)" in service.log()
    assert members(service_env, group) == []
    assert committed(service_env, group) == 20  # only the shutdown commit can have sent them


def test_killed_mid_stream_then_restarted_counts_every_game_once(service_env: ServiceEnv
                                                                 ) -> None:
    url = service_env.migrate("example")
    group = f"example-{service_env.namespace}"
    service_env.publish(GAME_COMPLETED, games(300))
    first = service_env.start("example", "--consumer-group", group, "--kafka-batch-size", "5")
    wait_until(lambda: counted(url) >= 40, 120, "some games counted")
    first.process.kill()  # SIGKILL mid-stream: some handled, offsets not all committed
    first.wait()
    again = service_env.start("example", "--consumer-group", group, "--exit-when-idle", "3")
    assert again.wait(timeout=300) == 0, again.log()
    assert counted(url) == 300


def test_a_shutdown_past_the_grace_period_is_cut_short(service_env: ServiceEnv) -> None:
    service_env.migrate("example")
    stubborn = ServiceProcess(
        [sys.executable, "-m", "tests.integration.services.stubborn_service",
         "--grace-period-s", "2"], service_env.env("example"), REPO_ROOT,
        service_env.directory / "stubborn.log")
    service_env.processes.append(stubborn)
    stubborn.wait_for("/readyz", 200)
    stubborn.terminate()
    assert stubborn.wait(timeout=60) == 1
    assert "longer than the grace period (2 s)" in stubborn.log()


def test_max_events_and_exit_when_idle_end_the_run(service_env: ServiceEnv) -> None:
    url = service_env.migrate("example")
    service_env.publish(GAME_COMPLETED, games(12))
    group = f"example-{service_env.namespace}"
    bounded = service_env.start("example", "--consumer-group", group, "--max-events", "5",
                                "--kafka-batch-size", "1")
    assert bounded.wait() == 0, bounded.log()
    assert counted(url) == 5
    assert committed(service_env, group) == 5

    idle = service_env.start("example", "--consumer-group", group, "--exit-when-idle", "2")
    assert idle.wait() == 0, idle.log()
    assert "(--exit-when-idle): stopping" in idle.log()
    assert counted(url) == 12
    assert committed(service_env, group) == 12


def test_bad_start_conditions_are_named(service_env: ServiceEnv) -> None:
    unmigrated = service_env.start("example")
    assert unmigrated.wait() == 2
    assert "run `ringrift db upgrade --service example`" in unmigrated.log()

    service_env.migrate("example")
    invalid = service_env.start("example", env=service_env.env(
        "example", RINGRIFT_EXAMPLE_REPORT_EVERY_S="soon"))
    assert invalid.wait() == 2
    assert "invalid setting RINGRIFT_EXAMPLE_REPORT_EVERY_S (flag --report-every-s)" in \
        invalid.log()
    no_broker = service_env.start("example", "--kafka-bootstrap-servers", " ")
    assert no_broker.wait() == 2
    assert "RINGRIFT_KAFKA_BOOTSTRAP_SERVERS is empty" in no_broker.log()

    helped = service_env.start("example", "--help")
    assert helped.wait() == 0
    assert "RINGRIFT_EXAMPLE_REQUIRE_MODEL" in " ".join(helped.log().split())


def _version() -> str:
    from ringrift import __version__

    return __version__
