"""The partitions a consumer loop owns now: assigned, revoked, lost, paused.

Rebalance callbacks run inside ``poll()`` on the loop's thread. An assigned partition
starts in ``check`` when the loop runs jobs (an unfinished job of its records may be
waiting) and ready otherwise. A revoked or lost partition is forgotten at once, with the
records already polled from it: they are never handled beside the partition's new owner,
who reads them again from the committed offset; its running job is asked to stop.
Partitions that wait (a job, a retry, an outage) or hold a full queue are paused at the
broker, so the consumer keeps polling (and its place in the group) without fetching them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from confluent_kafka import Consumer, TopicPartition

from ringrift.events.partitions import CHECK, READY, PartitionState

log = logging.getLogger("ringrift.events.consumer")
Key = tuple[str, int]


class Assignment:
    """The loop's partitions by ``(topic, partition)``; ``lock`` guards what other threads
    read (status, lag)."""

    def __init__(self, consumer: Consumer, *, group: str, batch_size: int, with_jobs: bool,
                 stop_jobs: Callable[[set[str]], None]) -> None:
        self._consumer = consumer
        self._group = group
        self._batch_size = batch_size
        self._with_jobs = with_jobs
        self._stop_jobs = stop_jobs
        self.parts: dict[Key, PartitionState] = {}
        self.paused: set[Key] = set()
        self.rebalances = 0
        self.lock = threading.Lock()

    def assign(self, partitions: list[TopicPartition]) -> None:
        state = CHECK if self._with_jobs else READY
        with self.lock:
            for tp in partitions:
                self.parts[(tp.topic, tp.partition)] = PartitionState(tp.topic, tp.partition,
                                                                      state=state)
            self.rebalances += 1
        log.info("partitions assigned: %s", describe(partitions), extra={"group": self._group})

    def forget(self, partitions: list[TopicPartition], how: str) -> None:
        """Drop revoked or lost partitions, their polled records, and stop their jobs."""
        dropped, jobs = 0, set()
        with self.lock:
            for tp in partitions:
                part = self.parts.pop((tp.topic, tp.partition), None)
                self.paused.discard((tp.topic, tp.partition))
                if part is not None:
                    dropped += len(part.queue)
                    if part.job_id:
                        jobs.add(part.job_id)
            self.rebalances += 1
        self._stop_jobs(jobs)
        log.info("partitions %s: %s (%d polled record(s) dropped, %d job(s) stopping)", how,
                 describe(partitions), dropped, len(jobs), extra={"group": self._group})

    def sync_pauses(self) -> None:
        """Pause partitions that wait (or hold a full queue), resume the others."""
        wanted = {key for key, part in self.parts.items()
                  if part.state != READY or len(part.queue) >= self._batch_size}
        pause, resume = wanted - self.paused, self.paused - wanted
        if pause:
            self._consumer.pause([TopicPartition(t, p) for t, p in pause])
        if resume:
            self._consumer.resume([TopicPartition(t, p) for t, p in resume])
        with self.lock:
            self.paused = wanted

    def finished(self, offsets: dict[Key, int]) -> None:
        """Note the next offset to finish of each partition (for the lag)."""
        for key, offset in offsets.items():
            if key in self.parts:
                self.parts[key].next_offset = offset


def describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "none"
