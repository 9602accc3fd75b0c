"""Publishing what a tool committed to the exporter's outbox (the import), before it exits.

The tool starts an outbox relay of its own on the exporter's database and waits until no
committed row is left unsent. When a running exporter holds the database's relay lock, the
tool's relay stands by and the service's relay publishes the rows (it looks every second);
the wait is the same. Rows still unsent at the timeout (no broker) stay in the outbox and
go out with the next relay that runs: nothing is lost either way.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, func, select

from ringrift.events.outbox import OutboxRow
from ringrift.events.relay import OutboxRelay
from ringrift.events.settings import KafkaSettings
from ringrift.storage.database import session_scope


def unsent(engine: Engine) -> int:
    """Committed outbox rows not published yet."""
    with session_scope(engine, read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(OutboxRow)
                                  .where(OutboxRow.sent_at.is_(None))) or 0)


def publish_outbox(engine: Engine, kafka: KafkaSettings, *, timeout_s: float) -> int:
    """Wait up to ``timeout_s`` for the outbox to be published; returns the rows left."""
    relay = OutboxRelay(engine, kafka, client_id="exporter-import", idle_poll_s=0.2)
    relay.start()
    deadline = time.monotonic() + timeout_s
    try:
        while (left := unsent(engine)) and time.monotonic() < deadline:
            relay.wake()
            time.sleep(0.2)
        return left
    finally:
        relay.stop(timeout_s=5)
