"""Alembic migrations: the library's tables and each service's own, run from code or ``ringrift db``.

Every service has a database of its own (no service reads another's tables). Each such
database holds two things, migrated together:

* the library's runtime tables (artifact index, processed event ids, the outbox, jobs):
  the trunk in ``versions/``, revisions ``000N_what`` chained from ``0001_initial``;
* the service's own tables: an Alembic *branch* in ``services/<module>/migrations/``,
  labelled with the module name, revisions ``<module>_000N_what``, its first revision
  rooted at ``down_revision = None`` with ``depends_on`` the library revision it needs.

Alembic runs with both folders as version locations (only that one service's folder,
so other services' branches are invisible) and upgrades to ``heads``. The environment
lives beside the library's models and needs no ``alembic.ini``: :func:`alembic_config`
builds the configuration in code, so services, tests and the CLI migrate the same way.
Without a service only the trunk is used (``ringrift db upgrade`` on ``DATABASE_URL``).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from ringrift.errors import ConfigurationError
from ringrift.service.names import ServiceName
from ringrift.storage.database import make_engine, normalise_url

HERE = Path(__file__).parent
LIBRARY_VERSIONS = HERE / "versions"

MODEL_MODULES = (
    "ringrift.storage.artifact_index",
    "ringrift.events.idempotency",
    "ringrift.events.outbox",
    "ringrift.events.jobs",
)
"""The modules that declare the library's tables on ``Base``: add yours here, so that
autogenerate and the schema tests see every table of the trunk."""


def env_model_modules() -> tuple[str, ...]:
    """Import every module of :data:`MODEL_MODULES` (declaring its tables); returns them."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return MODEL_MODULES


class SchemaOutOfDate(ConfigurationError):
    """The database is not at the revisions this build needs; the message says what to run."""


def alembic_config(url: str, service: str | None = None) -> Config:
    """An Alembic configuration for the database at ``url`` (of ``service``, if given)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s")  # the file is named by its id
    config.set_main_option("version_locations",
                           os.pathsep.join(str(path) for path in version_locations(service)))
    # Passed as an attribute, not an option: the option parser would read % in a password.
    config.attributes["url"] = normalise_url(url)
    return config


def version_locations(service: str | None) -> list[Path]:
    """The library's versions folder, plus ``service``'s migrations folder if it has one."""
    locations = [LIBRARY_VERSIONS]
    if service is not None:
        own = ServiceName.parse(service).migrations_dir()
        if own is not None:
            locations.append(own)
    return locations


def upgrade_to_head(url: str, service: str | None = None) -> None:
    """Bring the database at ``url`` to the newest schema (a no-op when it is there)."""
    upgrade(url, "heads", service)


def upgrade(url: str, revision: str, service: str | None = None) -> None:
    # "head" means every head once a service branch is in the picture.
    command.upgrade(alembic_config(url, service), "heads" if revision == "head" else revision)


def downgrade(url: str, revision: str, service: str | None = None) -> None:
    """Go back to ``revision`` (``base`` drops every table the migrations made)."""
    command.downgrade(alembic_config(url, service), revision)


def current_heads(url: str) -> tuple[str, ...]:
    """The revisions the database is at (one per branch), sorted; empty before any."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    finally:
        engine.dispose()


def head_revisions(service: str | None = None) -> tuple[str, ...]:
    """The newest revision of each branch this build has (trunk, and ``service``'s), sorted."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://", service))
    return tuple(sorted(scripts.get_heads()))


def current_revision(url: str) -> str | None:
    """The revision of a database with one branch (the library's only); None before any."""
    heads = current_heads(url)
    return heads[0] if heads else None


def head_revision() -> str | None:
    """The newest revision of the library's trunk."""
    heads = head_revisions()
    return heads[0] if heads else None


def check_at_head(url: str, service: str) -> None:
    """Refuse to run ``service`` on a database that is not at this build's every head.

    Raises:
        SchemaOutOfDate: the database is behind (or empty), or was migrated by a newer
            build; the message names the command that fixes it.
    """
    name = ServiceName.parse(service)
    current = current_heads(url)
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://", name.name))
    unknown = [rev for rev in current if not _known(scripts, rev)]
    if unknown:
        raise SchemaOutOfDate(
            f"the database {_shown(url)} of {name.name} is at {', '.join(unknown)}, a "
            "revision this build does not know: it was migrated by a newer build; run that "
            f"build, or `ringrift db downgrade --service {name.name} REVISION` with it first")
    # Alembic records only the tips: a revision another depends on is implied by it.
    applied = {rev.revision for rev in scripts.iterate_revisions(current, "base")} if current \
        else set()
    missing = [rev.revision for rev in scripts.iterate_revisions("heads", "base")
               if rev.revision not in applied]
    if missing:
        raise SchemaOutOfDate(
            f"the database {_shown(url)} of {name.name} is at "
            f"{', '.join(current) or 'no revision (empty)'} and lacks {', '.join(missing)}: "
            f"run `ringrift db upgrade --service {name.name}` (with the same "
            f"{name.env_prefix}DATABASE_URL)")


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def new_revision(message: str, rev_id: str, service: str | None = None) -> Path:
    """Write an empty migration: on the trunk, or on ``service``'s branch (started if new).

    Returns:
        The path of the new file.

    Raises:
        ConfigurationError: ``rev_id`` does not follow the naming of its branch.
    """
    if service is None:
        config = alembic_config("sqlite://")
        script = command.revision(config, message=message, rev_id=rev_id)
    else:
        name = ServiceName.parse(service)
        if not rev_id.startswith(f"{name.module}_"):
            raise ConfigurationError(f"revision ids of {name.name} start with {name.module}_, "
                                     f"e.g. {name.module}_0001_tables (got {rev_id!r})")
        folder = name.package_dir() / "migrations"
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").touch()  # package data, so images ship the migrations
        config = alembic_config("sqlite://", name.name)
        scripts = ScriptDirectory.from_config(config)
        started = any(name.module in rev.branch_labels for rev in scripts.walk_revisions())
        if started:
            script = command.revision(config, message=message, rev_id=rev_id,
                                      head=f"{name.module}@head")
        else:  # the branch's first revision: a new root, after the library's tables
            script = command.revision(config, message=message, rev_id=rev_id, head="base",
                                      branch_label=name.module, version_path=str(folder),
                                      depends_on=head_revision())
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def create_database_if_missing(url: str) -> bool:
    """Create the PostgreSQL database ``url`` names if it does not exist (SQLite files are
    created on first connect). Returns whether it was created.

    Raises:
        ConfigurationError: the role may not create databases; the message has the SQL.
    """
    import psycopg
    from psycopg import sql

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    maintenance = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(maintenance.render_as_string(hide_password=False),
                         autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                    (parsed.database,)).fetchone()
        if exists:
            return False
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(
                sql.Identifier(parsed.database)))
        except psycopg.errors.InsufficientPrivilege:
            raise ConfigurationError(
                f"database {parsed.database!r} does not exist and role {parsed.username!r} may "
                f"not create it; as an administrator run: CREATE DATABASE \"{parsed.database}\" "
                f"OWNER \"{parsed.username}\";") from None
        except psycopg.errors.DuplicateDatabase:  # created by a racing migrate job: fine
            return False
    return True


def _shown(url: str) -> str:
    return make_url(normalise_url(url)).render_as_string(hide_password=True)
