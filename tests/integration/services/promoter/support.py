"""Helpers of the promoter's service tests: start it, make tokens, read what it published.

Tokens are made the way operators make them, with ``ringrift promoter token create``
in a child process against the service's own database.
"""

from __future__ import annotations

import subprocess
import sys

from ringrift.events.topics import MODEL_CURRENT, MODEL_LIFECYCLE
from ringrift.storage import migrations
from ringrift.storage.artifacts import DirectoryArtifactStore
from tests.fixtures.services import ServiceEnv, ServiceProcess


def store(env: ServiceEnv) -> DirectoryArtifactStore:
    """The artifact store the services of ``env`` use (RINGRIFT_ARTIFACT_DIR)."""
    return DirectoryArtifactStore(env.directory / "artifacts")


def start(env: ServiceEnv, *flags: str, database_url: str | None = None,
          **extra_env: str) -> ServiceProcess:
    """The promoter in a child process (its own database: SQLite, or ``database_url``)."""
    url = database_url or env.database_url("promoter")
    migrate(env, url)
    environment = env.env("promoter", RINGRIFT_PROMOTER_DATABASE_URL=url, **extra_env)
    return env.start("promoter", "--consumer-group", f"promoter-{env.namespace}", *flags,
                     env=environment)


def migrate(env: ServiceEnv, url: str) -> None:
    (env.directory / "db").mkdir(exist_ok=True)
    migrations.upgrade_to_head(url, "promoter")


def ringrift(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``ringrift ARGS`` in a child process, as a person types it."""
    done = subprocess.run([sys.executable, "-m", "ringrift.cli.main", *args],
                          capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"ringrift {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


def token(database_url: str, name: str, role: str) -> str:
    """A new token from ``ringrift promoter token create``."""
    created = ringrift("promoter", "token", "create", "--name", name, "--role", role,
                       "--database-url", database_url)
    return created.stdout.strip()


def lifecycle(env: ServiceEnv, count: int, timeout: float = 120) -> list[tuple[int, str, str]]:
    """(transition, model id, actor) of the lifecycle events, once ``count`` are there."""
    return [(e.payload.transition, e.payload.model_id, e.payload.actor)
            for e in env.read(MODEL_LIFECYCLE, count, timeout)]


def currents(env: ServiceEnv, count: int, timeout: float = 120) -> list[tuple[str, int]]:
    """(model id, revision) of the current-model events, once ``count`` are there."""
    return [(e.payload.model_id, e.payload.revision)
            for e in env.read(MODEL_CURRENT, count, timeout)]
