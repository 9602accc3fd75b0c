"""Everything the services need before they start: a broker, its topics, their databases.

:func:`prepare` is idempotent, so the next ``make run`` resumes where the last one stopped:

1. the broker: ``KAFKA_BOOTSTRAP_SERVERS`` (or ``--kafka-bootstrap-servers``) if given;
   else the local broker of ``var/kafka`` (the project's launcher, data kept between runs),
   reused if it runs already, else started in a session of its own (it gets no Ctrl-C; the
   supervisor stops it last, after the services flushed their outboxes);
2. the registry's topics and their dead-letter twins, created if missing;
3. each process's database, created if missing and migrated to the newest schema
   (SQLite files under ``var/db``; on PostgreSQL one database per process);
4. the promoter's first operator token, made once and kept in ``var/up/operator-token``
   (readable by its owner only).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ringrift.errors import ConfigurationError
from ringrift.events.settings import KafkaSettings
from ringrift.events.topics import TOPICS, TopicSpec
from ringrift.pipeline.processes import PipelineProcess, database_url
from ringrift.pipeline.settings import UpSettings

log = logging.getLogger(__name__)
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Infrastructure:
    """What :func:`prepare` set up, and what :func:`release` must undo."""

    bootstrap_servers: str
    started_broker: bool
    """True when this run started the local broker (and stops it at the end)."""
    token: str
    token_created: bool


def namespaced(settings: UpSettings, spec: TopicSpec) -> TopicSpec:
    """``spec`` as the run's services name it (with the topic namespace, if any)."""
    return replace(spec, name=f"{settings.namespace}.{spec.name}") if settings.namespace \
        else spec


def prepare(settings: UpSettings, processes: list[PipelineProcess], echo: Echo = print
            ) -> Infrastructure:
    """Broker, topics, databases and token for ``processes``; see the module docstring.

    Raises:
        ConfigurationError: ``DATABASE_URL`` is not a PostgreSQL server, or a database
            cannot be created (the message says what to run).
        KafkaStartError, ProvisioningError: the broker did not start or answer.
    """
    if settings.database_url is not None and \
            not settings.database_url.startswith(("postgresql", "postgres")):
        raise ConfigurationError(
            f"DATABASE_URL={_hide_password(settings.database_url)}: `ringrift up` gives each "
            "service its own database on a PostgreSQL server; unset DATABASE_URL to use "
            f"SQLite files under {settings.db_dir}")
    bootstrap, started = _broker(settings, echo)
    _topics(settings, bootstrap, echo)
    _databases(settings, processes, echo)
    token, created = operator_token(settings.token_path)
    return Infrastructure(bootstrap, started, token, created)


def release(settings: UpSettings, infrastructure: Infrastructure, echo: Echo = print) -> None:
    """Stop the local broker if this run started it (its data stays for the next run)."""
    if infrastructure.started_broker:
        from ringrift.localinfra.kafka import stop_persistent_broker

        echo(f"stopping the Kafka broker (data kept in {settings.kafka_dir}) ...")
        stop_persistent_broker(settings.kafka_dir)


def operator_token(path: Path) -> tuple[str, bool]:
    """The run's operator token for the promoter: read from ``path``, or made and written
    there (mode 0600). Returns the token and whether it was made now."""
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = "rrt_" + secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
    return token, True


def _broker(settings: UpSettings, echo: Echo) -> tuple[str, bool]:
    if settings.bootstrap_servers:
        echo(f"kafka: using the broker at {settings.bootstrap_servers}")
        return settings.bootstrap_servers, False
    from ringrift.localinfra.kafka import (
        KAFKA_VERSION,
        running_broker,
        start_persistent_broker,
    )

    running = running_broker(settings.kafka_dir)
    if running is not None:
        echo(f"kafka: the local broker runs already at {running} ({settings.kafka_dir})")
        return running, False
    echo(f"kafka: starting Kafka {KAFKA_VERSION} at 127.0.0.1:{settings.kafka_port}, data in "
         f"{settings.kafka_dir} (the first start fetches its jars) ...")
    bootstrap, pid = start_persistent_broker(settings.kafka_dir, settings.kafka_port)
    echo(f"kafka: ready at {bootstrap} (pid {pid}, log {settings.kafka_dir / 'broker.log'})")
    return bootstrap, True


def _topics(settings: UpSettings, bootstrap: str, echo: Echo) -> None:
    from ringrift.events.provision import create_topics

    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    result = create_topics(kafka, [namespaced(settings, spec) for spec in TOPICS])
    echo(f"topics: {len(result.created)} created, {len(result.existing)} there already")


def _databases(settings: UpSettings, processes: list[PipelineProcess], echo: Echo) -> None:
    # Alembic announces each of its plugins at INFO when imported; only the outcome matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from ringrift.storage import migrations
    from ringrift.storage.database import wait_for_database

    settings.db_dir.mkdir(parents=True, exist_ok=True)
    for process in processes:
        url = database_url(settings, process)
        if migrations.create_database_if_missing(url):
            echo(f"database: created {process.name}'s database")
        wait_for_database(url, timeout_s=30)
        migrations.upgrade_to_head(url, process.service)
    where = settings.db_dir if settings.database_url is None else \
        _hide_password(settings.database_url).rsplit("/", 1)[0] + "/ringrift_<process>"
    echo(f"databases: {len(processes)} at the newest schema ({where})")


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: show nothing of it
        return "(unparseable URL)"
