"""A consumer process for the kill and shutdown tests: ``python -m tests.integration.events.consumer_child``.

Runs the real ConsumerLoop over a copy of the game-completed topic with the recording
handler, SIGTERM handled as a service's ``main.py`` does. Options shape the moment a test
kills it at: the auto-commit interval (no background commit before the kill), an output
per event through the outbox, a relay held back (outputs committed, never published: the
window between commit and publish), a flag file that makes the handler stop inside its
transaction (before the commit), and a long job per event (checkpointed steps).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from ringrift.events import envelope
from ringrift.events.consumer import ConsumerLoop
from ringrift.events.gen.selfplay.v1.selfplay_pb2 import ShardWritten
from ringrift.events.jobs import JobContext, JobRequest
from ringrift.events.relay import OutboxRelay
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import GAME_COMPLETED, SHARD_WRITTEN
from ringrift.telemetry.logging import configure_logging
from tests.integration.events.support import Effect, make_store, recording_handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--auto-commit-interval-ms", type=int, default=1000)
    parser.add_argument("--output-topic", help="emit a ShardWritten per event, via the outbox")
    parser.add_argument("--hold-relay", action="store_true",
                        help="never start the relay: outputs stay committed and unpublished")
    parser.add_argument("--block-flag", type=Path,
                        help="while this file exists, the handler writes its effect, then "
                        "touches <flag>.inside and waits forever inside its transaction")
    parser.add_argument("--job-steps", type=int, default=0,
                        help="each event starts a job of this many checkpointed steps")
    parser.add_argument("--job-log", type=Path, help="the job appends 'pid step' per step")
    parser.add_argument("--job-lease-s", type=float, default=30.0)
    parser.add_argument("--grace-s", type=float, default=30.0)
    args = parser.parse_args()
    configure_logging("INFO")
    settings = KafkaSettings(bootstrap_servers=args.bootstrap_servers, session_timeout_ms=6000,
                             auto_commit_interval_ms=args.auto_commit_interval_ms,
                             job_lease_s=args.job_lease_s)
    engine = make_store(args.db)
    record = recording_handler("child")
    outputs = (replace(SHARD_WRITTEN, name=args.output_topic, partitions=args.partitions)
               if args.output_topic else None)

    def handle(event, session):
        record(event, session)
        produced: list = []
        if outputs is not None:
            shard = ShardWritten(shard_id=f"shard-{event.payload.game_id}",
                                 config_key=event.config_key, num_games=1)
            produced.append((outputs, envelope.follow_up(event, shard, producer="exporter")))
        if args.block_flag is not None and args.block_flag.exists():
            session.flush()  # the effect and the outbox row are written, not committed
            Path(f"{args.block_flag}.inside").touch()
            while True:
                time.sleep(1)
        if args.job_steps:
            produced.append(JobRequest("steps", {"steps": args.job_steps}))
        return produced

    def steps(context: JobContext):
        checkpoint = context.load_checkpoint()
        start = int(checkpoint) + 1 if checkpoint is not None else 0
        for step in range(start, int(context.params["steps"])):
            context.check_cancelled()
            time.sleep(0.5)  # the work of one step
            with args.job_log.open("a") as log:
                log.write(f"{os.getpid()} {step}\n")
            context.save_checkpoint(str(step).encode())
            context.report_progress((step + 1) / context.params["steps"], f"step {step}")
        context.add_effect(lambda session: session.add(Effect(
            event_id=context.job_id, config_key=context.event.config_key, seq=-1,
            consumer=f"job-{os.getpid()}")))
        if outputs is None:
            return []
        done = ShardWritten(shard_id=f"job-{context.job_id}", config_key=context.event.config_key)
        return [(outputs, envelope.follow_up(context.event, done, producer="exporter",
                                             name="job-done"))]

    relay = OutboxRelay(engine, settings, client_id="child-relay")
    loop = ConsumerLoop(settings, service="exporter", group=args.group,
                        topics=[replace(GAME_COMPLETED, name=args.topic,
                                        partitions=args.partitions)],
                        handler=handle, engine=engine, jobs={"steps": steps}, relay=relay)
    loop.install_signal_handlers()
    if not args.hold_relay:
        relay.start()
    loop.start()
    try:
        while not loop.stopping:
            loop.poll_once(0.5)
    finally:
        loop.close(args.grace_s)
        relay.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
