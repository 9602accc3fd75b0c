"""The one topic registry: every topic of the pipeline, declared once.

Each :class:`TopicSpec` says what a topic carries (one message type, in an
:class:`~ringrift.events.gen.events.v1.envelope_pb2.Envelope`), how it is keyed, how
many partitions it has, whether it is a stream (deleted after its retention) or
compacted (the latest value per key), and which services produce and consume it.
Topics are created from here by ``ringrift events topics create``
(:mod:`ringrift.events.provision`), never by broker auto-creation; every stream topic
has a dead-letter twin ``<name>.dlq``. The README's topic table is printed by
``ringrift events topics list``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from google.protobuf.message import Message

from ringrift.events.errors import UnknownTopic
from ringrift.events.gen.model.v1 import model_pb2
from ringrift.events.gen.ops.v1 import ops_pb2
from ringrift.events.gen.selfplay.v1 import selfplay_pb2

DAY_MS = 24 * 60 * 60 * 1000
DLQ_SUFFIX = ".dlq"

# Services by the name they use as producer and consumer group (hyphens, as in k8s).
SERVICES: frozenset[str] = frozenset({
    "selfplay", "exporter", "trainer", "evaluator", "promoter", "curriculum",
    "cluster-monitor",
})


class Key(StrEnum):
    """What a topic's records are keyed by (the partition key)."""

    CONFIG = "config"
    """The envelope's config key, e.g. ``square8_2p``: one config's events stay in order."""
    ALL = "all"
    """The constant ``all``: one partition holds the whole history of a global value."""
    NODE_ID = "node_id"
    """The payload's ``node_id``: the latest status per node survives compaction."""


class Cleanup(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, key, message type, layout on the broker, producers and consumers."""

    name: str
    key: Key
    message_type: type[Message]
    partitions: int
    cleanup: Cleanup
    retention_ms: int | None
    """How long a stream keeps its records; ``None`` keeps them forever (compacted topics)."""
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    schema_version: int = 1
    """The major version of the payload schema: the vN of its protobuf package."""

    @property
    def event_type(self) -> str:
        """The payload's full protobuf name, written into each envelope."""
        return str(self.message_type.DESCRIPTOR.full_name)

    @property
    def dlq_name(self) -> str:
        return self.name + DLQ_SUFFIX

    def broker_config(self) -> dict[str, str]:
        """Topic-level settings for the AdminClient."""
        config = {"cleanup.policy": self.cleanup.value}
        if self.retention_ms is not None:
            config["retention.ms"] = str(self.retention_ms)
        return config


def _stream(name: str, message_type: type[Message], producers: Iterable[str],
            consumers: Iterable[str], *, partitions: int = 12,
            retention_days: int = 30) -> TopicSpec:
    # 12 partitions: one per config, so each config can go to its own consumer.
    return TopicSpec(name, Key.CONFIG, message_type, partitions, Cleanup.DELETE,
                     retention_days * DAY_MS, tuple(producers), tuple(consumers))


def _compacted(name: str, key: Key, message_type: type[Message], producers: Iterable[str],
               consumers: Iterable[str], *, partitions: int = 1) -> TopicSpec:
    return TopicSpec(name, key, message_type, partitions, Cleanup.COMPACT, None,
                     tuple(producers), tuple(consumers))


GAME_COMPLETED = _stream("ringrift.selfplay.game-completed.v1", selfplay_pb2.GameCompleted,
                         ["selfplay"], ["exporter"], retention_days=365)
"""Kept for a year: the bus is the log of every game played."""
SHARD_WRITTEN = _stream("ringrift.export.shard-written.v1", selfplay_pb2.ShardWritten,
                        ["exporter"], ["trainer", "promoter"])
"""The promoter reads shards only for its pipeline status (when the export stage last produced)."""
CANDIDATE_READY = _stream("ringrift.training.candidate-ready.v1", model_pb2.CandidateReady,
                          ["trainer"], ["evaluator", "promoter"])
EVALUATION_COMPLETED = _stream("ringrift.evaluation.completed.v1",
                               model_pb2.EvaluationCompleted,
                               ["evaluator"], ["promoter", "curriculum", "trainer"])
EVALUATION_STARTED = _stream("ringrift.evaluation.started.v1", model_pb2.EvaluationStarted,
                             ["evaluator"], ["promoter"])
"""A candidate's evaluation began (the promoter's ``evaluating`` state)."""
MODEL_LIFECYCLE = _stream("ringrift.model.lifecycle.v1", model_pb2.ModelLifecycleChanged,
                          ["promoter"], ["evaluator", "curriculum"], retention_days=365)
"""Self-play and the trainer follow the model through ``model.current`` instead."""
MODEL_CURRENT = _compacted("ringrift.model.current.v1", Key.CONFIG, model_pb2.CurrentModel,
                           ["promoter"], ["selfplay", "evaluator", "trainer"], partitions=12)
CURRICULUM_WEIGHTS = _compacted("ringrift.curriculum.weights.v1", Key.ALL,
                                ops_pb2.CurriculumWeights, ["curriculum"], ["selfplay"])
NODE_STATUS = _compacted("ringrift.cluster.node-status.v1", Key.NODE_ID, ops_pb2.NodeStatus,
                         ["cluster-monitor"], ["cluster-monitor"], partitions=6)
"""Written by the cluster monitor's agent role (one per node), read by its monitor role."""
CLUSTER_STATUS = _compacted("ringrift.cluster.status.v1", Key.ALL, ops_pb2.ClusterStatus,
                            ["cluster-monitor"], ["trainer", "selfplay", "evaluator"])
"""Read through :class:`ringrift.service.cluster.ClusterView` (``runtime.cluster()``)."""

TOPICS: tuple[TopicSpec, ...] = (
    GAME_COMPLETED, SHARD_WRITTEN, CANDIDATE_READY, EVALUATION_STARTED, EVALUATION_COMPLETED,
    MODEL_LIFECYCLE, MODEL_CURRENT, CURRICULUM_WEIGHTS, NODE_STATUS, CLUSTER_STATUS,
)


def topic(name: str) -> TopicSpec:
    """The registered topic called ``name``.

    Raises:
        UnknownTopic: no topic of that name is registered.
    """
    for spec in TOPICS:
        if spec.name == name:
            return spec
    raise UnknownTopic(f"no topic {name!r} in the registry; known: "
                       f"{', '.join(spec.name for spec in TOPICS)}")


@cache
def message_types() -> dict[str, type[Message]]:
    """Every event type the registry knows, by full protobuf name (do not mutate)."""
    return {spec.event_type: spec.message_type for spec in TOPICS}
