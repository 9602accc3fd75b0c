"""``ringrift events``: provision topics, list them, inspect and replay dead letters.

    ringrift events topics create          # create every registry topic (+ .dlq twins)
    ringrift events topics list            # the registry: key, type, layout, who uses it
    ringrift events dlq list TOPIC         # dead letters of TOPIC, with why they failed
    ringrift events dlq replay TOPIC --position 0:17 [--position ...] | --all [--force]
    ringrift events trace ID               # the chain of events that followed ID
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from ringrift.cli.options import add_kafka_option

if TYPE_CHECKING:  # imported lazily at run time, so `ringrift --help` stays fast
    from ringrift.events.settings import KafkaSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "events", help="Kafka topics and dead letters of the pipeline",
        description="Create the pipeline's topics from the registry, list them, and list or "
        "replay dead-lettered records.")
    groups = parser.add_subparsers(dest="events_command", metavar="GROUP", required=True)

    topics = groups.add_parser("topics", help="the topic registry").add_subparsers(
        dest="topics_command", metavar="ACTION", required=True)
    create = topics.add_parser("create", help="create missing topics and their .dlq twins "
                               "(idempotent)")
    add_kafka_option(create)
    create.set_defaults(func=_topics_create)
    listing = topics.add_parser("list", help="print the registry (no broker needed)")
    listing.set_defaults(func=_topics_list)

    dlq = groups.add_parser("dlq", help="dead-lettered records").add_subparsers(
        dest="dlq_command", metavar="ACTION", required=True)
    dlq_list = dlq.add_parser("list", help="list the dead letters of a topic")
    dlq_list.add_argument("topic", help="the original topic (or its .dlq name)")
    add_kafka_option(dlq_list)
    dlq_list.set_defaults(func=_dlq_list)
    dlq_replay = dlq.add_parser(
        "replay", help="re-produce dead letters to their original topic, unchanged")
    dlq_replay.add_argument("topic", help="the original topic (or its .dlq name)")
    chosen = dlq_replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--position", action="append", metavar="PARTITION:OFFSET",
                        help="a dead letter's position as `dlq list` prints it; repeatable")
    chosen.add_argument("--all", action="store_true", help="replay every dead letter")
    dlq_replay.add_argument("--force", action="store_true",
                            help="replay letters that were replayed before, too (each replay "
                            "is recorded in the dead-letter topic; by default it is done once)")
    add_kafka_option(dlq_replay)
    dlq_replay.set_defaults(func=_dlq_replay)

    trace = groups.add_parser(
        "trace", help="the chain of events that followed a game, shard, model or event",
        description="Follow ID across every topic: game -> shard -> candidate -> evaluation "
        "-> lifecycle -> current model -> the first game played with it, with each event's "
        "produced-at time and the lag between stages. ID is an event id, a correlation id, a "
        "game id, a shard id, a model id or an evaluation id (the status view of `ringrift up` "
        "and the promoter's pipeline status print them).")
    trace.add_argument("id", help="the id to follow")
    trace.add_argument("--namespace", default=os.environ.get("RINGRIFT_TOPIC_NAMESPACE", ""),
                       help="the topics' namespace prefix (env RINGRIFT_TOPIC_NAMESPACE; "
                       "default: none)")
    trace.add_argument("--json", action="store_true", help="print the steps as JSON")
    add_kafka_option(trace)
    trace.set_defaults(func=_trace)


def _trace(args: argparse.Namespace) -> int:
    from ringrift.pipeline.trace_cli import as_json, format_steps, trace

    steps = trace(_settings(args), args.id, args.namespace)
    print(as_json(steps) if args.json else "\n".join(format_steps(args.id, steps)))
    return 0 if steps else 1


def _settings(args: argparse.Namespace) -> KafkaSettings:
    from ringrift.events.settings import KafkaSettings

    return KafkaSettings(bootstrap_servers=args.bootstrap_servers)


def _topics_create(args: argparse.Namespace) -> int:
    from ringrift.events.provision import create_topics

    result = create_topics(_settings(args))
    for name in result.created:
        print(f"created  {name}")
    for name in result.existing:
        print(f"exists   {name}")
    return 0


def _topics_list(args: argparse.Namespace) -> int:
    from ringrift.events.topics import TOPICS

    for spec in TOPICS:
        keep = (f"retention {spec.retention_ms // 86_400_000} d" if spec.retention_ms
                else spec.cleanup.value)
        print(f"{spec.name}\n    key={spec.key.value} type={spec.event_type} "
              f"partitions={spec.partitions} {keep}\n"
              f"    producers: {', '.join(spec.producers)}  consumers: "
              f"{', '.join(spec.consumers)}")
    return 0


def _dlq_list(args: argparse.Namespace) -> int:
    from ringrift.events import deadletter, replay

    letters = replay.list_dead_letters(_settings(args), args.topic)
    if not letters:
        print(f"no dead letters for {args.topic}")
    for letter in letters:
        c = letter.context
        replayed = f"  replayed {len(letter.replays)}x, last {letter.replays[-1]}" \
            if letter.replays else ""
        print(f"{letter.position}  from {c.get(deadletter.TOPIC)}[{c.get(deadletter.PARTITION)}]"
              f"@{c.get(deadletter.OFFSET)}  event={c.get(deadletter.EVENT_ID) or '?'} "
              f"service={c.get(deadletter.SERVICE)} attempts={c.get(deadletter.ATTEMPTS)}  "
              f"failed_at={c.get(deadletter.FAILED_AT)}{replayed}\n"
              f"    {c.get(deadletter.ERROR_CLASS)}: {c.get(deadletter.ERROR_MESSAGE)}")
    return 0


def _dlq_replay(args: argparse.Namespace) -> int:
    from ringrift.errors import ConfigurationError
    from ringrift.events import replay

    letters = replay.list_dead_letters(_settings(args), args.topic)
    if not args.all:
        by_position = {letter.position: letter for letter in letters}
        unknown = [p for p in args.position if p not in by_position]
        if unknown:
            raise ConfigurationError(f"no dead letter at {', '.join(unknown)} for {args.topic};"
                                     " `ringrift events dlq list` shows the positions")
        letters = [by_position[p] for p in args.position]
    result = replay.replay(_settings(args), letters, force=args.force)
    for letter in result.skipped:
        print(f"skipped {letter.position}: already replayed at {letter.replays[-1]} "
              "(--force replays it again)")
    print(f"replayed {len(result.replayed)} record(s) to {args.topic.removesuffix('.dlq')}")
    return 0
