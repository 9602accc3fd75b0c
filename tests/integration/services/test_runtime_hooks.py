"""The runtime's hooks in one process, against the real broker: outputs leave through the outbox.

Checks: a source's outputs are published once each, under the topic namespace, and the
source can end the run; a timer runs periodically on the processing thread, its outputs
published, and a failing run is counted without stopping the service; a handler's
outputs are renamed into the namespace as well.
"""

from __future__ import annotations

import threading

import pytest
from prometheus_client import REGISTRY

from ringrift.events.envelope import follow_up, new_event
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import GameCompleted, ShardWritten
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.service.flags import load_settings
from ringrift.service.hooks import SourceContext
from ringrift.service.runtime import ServiceRuntime
from services.example.settings import ExampleSettings
from tests.fixtures.services import ServiceEnv

pytestmark = pytest.mark.kafka


def runtime_in(env: ServiceEnv, *flags: str) -> ServiceRuntime:
    url = env.migrate("example")
    settings = load_settings(ExampleSettings, [
        "--database-url", url, "--http-host", "127.0.0.1", "--http-port", "0",
        "--kafka-bootstrap-servers", env.kafka.bootstrap_servers, "--topic-namespace",
        env.namespace, "--consumer-group", f"example-{env.namespace}",
        "--artifact-dir", str(env.directory / "artifacts"), *flags])
    return ServiceRuntime(settings)


def run_in_thread(runtime: ServiceRuntime) -> list[int]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(runtime.run()), daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the runtime did not stop"
    return result


def game(index: int):
    return new_event(GameCompleted(game_id=f"g{index}", config_key="hex8_2p", num_moves=index),
                     config_key="hex8_2p", producer="selfplay")


def test_a_sources_outputs_are_published_once_and_it_can_end_the_run(service_env) -> None:
    runtime = runtime_in(service_env)
    played = []

    def play(context: SourceContext) -> int:
        with context.transaction() as session:
            context.enqueue(session, GAME_COMPLETED, game(len(played)))
        played.append(1)
        if len(played) == 5:
            context.stop()
        return 1

    runtime.source(play)
    assert run_in_thread(runtime) == [0]
    published = service_env.read(GAME_COMPLETED, 5)
    assert sorted(event.payload.game_id for event in published) == [f"g{i}" for i in range(5)]


def test_an_idle_source_does_not_spin_and_exit_when_idle_ends_it(service_env) -> None:
    runtime = runtime_in(service_env, "--exit-when-idle", "1")
    calls = []
    runtime.source(lambda _context: calls.append(1) or 0)
    assert run_in_thread(runtime) == [0]
    # Idle turns wait (0.1 s) rather than spin: a second of idling is a handful of calls.
    assert 1 <= len(calls) < 200


def test_timers_run_and_publish_and_a_failure_does_not_stop_them(service_env) -> None:
    runtime = runtime_in(service_env)
    runs = []

    def heartbeat(_session) -> list:
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("a bad run")
        if len(runs) == 4:
            runtime.stop()
        return [(GAME_COMPLETED, game(len(runs)))]

    runtime.every(0.1, heartbeat, name="beat")
    assert run_in_thread(runtime) == [0]
    published = service_env.read(GAME_COMPLETED, 3)
    assert sorted(event.payload.game_id for event in published) == ["g1", "g3", "g4"]
    assert REGISTRY.get_sample_value("ringrift_service_timer_failures_total",
                                     {"service": "example", "timer": "beat"}) >= 1


def test_handler_outputs_go_to_the_namespaced_topic(service_env) -> None:
    runtime = runtime_in(service_env, "--exit-when-idle", "2")

    def handle(event, _session) -> list:
        shard = ShardWritten(shard_id=f"shard-{event.payload.game_id}",
                             config_key=event.config_key)
        return [(SHARD_WRITTEN, follow_up(event, shard, producer="example"))]

    runtime.consume([GAME_COMPLETED], handle)
    service_env.publish(GAME_COMPLETED, [game(i) for i in range(4)])
    assert run_in_thread(runtime) == [0]
    shards = service_env.read(SHARD_WRITTEN, 4)
    assert sorted(event.payload.shard_id for event in shards) == [
        f"shard-g{i}" for i in range(4)]
