"""``ringrift db`` and ``ringrift artifacts``: the database's schema and the artifact store.

``ringrift db upgrade --service NAME`` creates a service's own database if it is missing
and brings it to the newest schema (the library's runtime tables and the service's own
branch); it is what runs before each service starts (a compose one-shot, a Kubernetes
init container). Without ``--service`` it migrates the library's tables in
``--database-url`` (env ``DATABASE_URL``; SQLite file by default).
``ringrift artifacts put|verify|get`` store a file in the content-addressed store
and check or fetch one by the URI and sha256 an event carries.
"""

from __future__ import annotations

import argparse
import logging
import os

from ringrift.cli.options import add_artifact_dir_option


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_db(subparsers)
    _register_artifacts(subparsers)


def _register_db(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db", help="migrate a database (Alembic) and show its revision",
        description="Migrate a database with the project's Alembic migrations, or show its "
        "revision. With --service NAME: that service's own database (--database-url, else env "
        "RINGRIFT_<SERVICE>_DATABASE_URL, else sqlite:///var/db/NAME.db) with the library's "
        "runtime tables and the service's own branch (services/<module>/migrations/). "
        "Without: the library's tables only, in --database-url (env DATABASE_URL; default "
        "sqlite:///var/ringrift.db).",
    )
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)

    upgrade = actions.add_parser("upgrade", help="create the database if missing and migrate "
                                 "it to the newest schema (or --revision)")
    upgrade.add_argument("--revision", default="heads", help="target revision (default: heads,"
                         " the newest of every branch)")
    upgrade.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                         help="wait this long for the database to answer first (default: 30)")
    downgrade = actions.add_parser("downgrade", help="migrate back to REVISION ('base': empty;"
                                   " 'NAME@base': drop only the service's own tables)")
    downgrade.add_argument("revision")
    current = actions.add_parser("current", help="print the database's revisions and the "
                                 "newest ones")
    revision = actions.add_parser(
        "revision", help="write a new, empty migration file into the source tree")
    revision.add_argument("-m", "--message", required=True, help="what the migration changes")
    revision.add_argument("--rev-id", required=True,
                          help="revision id, numbered like the others: 000N_short_name on the "
                          "library trunk, <module>_000N_short_name on a service's branch")
    for sub in (upgrade, downgrade, current, revision):
        sub.add_argument("--service", metavar="NAME",
                         help="the service whose database and migrations to use, e.g. exporter")
    for sub in (upgrade, downgrade, current):
        sub.add_argument("--database-url", default=None,
                         help="SQLAlchemy database URL (default: see `ringrift db --help`)")
    parser.set_defaults(func=run_db)


def database_url_for(service: str | None, explicit: str | None = None) -> str:
    """The database a ``db`` command works on: the flag, else the service's, else the global."""
    if explicit:
        return explicit
    if service is None:
        return os.environ.get("DATABASE_URL", "sqlite:///var/ringrift.db")
    from ringrift.service.names import ServiceName

    name = ServiceName.parse(service)
    return os.environ.get(f"{name.env_prefix}DATABASE_URL", name.default_database_url)


def run_db(args: argparse.Namespace) -> int:
    # Alembic announces each of its plugins at INFO when imported; only migrations matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Alembic and SQLAlchemy load only when a db command runs, keeping `ringrift --help` fast.
    from sqlalchemy.exc import OperationalError

    from ringrift.storage import migrations
    from ringrift.storage.errors import DatabaseUnavailable

    service = args.service
    if args.db_action == "revision":
        path = migrations.new_revision(args.message, args.rev_id, service)
        print(f"wrote {path}")
        return 0
    url = database_url_for(service, args.database_url)
    try:
        if args.db_action == "upgrade":
            _wait_and_create(url, args.wait)
            migrations.upgrade(url, args.revision, service)
            print(f"database at {_heads(migrations.current_heads(url))}")
        elif args.db_action == "downgrade":
            migrations.downgrade(url, args.revision, service)
            print(f"database at {_heads(migrations.current_heads(url))}")
        else:
            current, newest = migrations.current_heads(url), migrations.head_revisions(service)
            print(f"current: {_heads(current)}")
            print(f"head:    {_heads(newest)}")
            if service is not None:
                try:
                    migrations.check_at_head(url, service)
                    print("up to date")
                except migrations.SchemaOutOfDate as behind:
                    print(f"not up to date: {behind}")
    except OperationalError as error:
        raise DatabaseUnavailable(f"database error: {str(error.orig or error).strip()}") from None
    return 0


def _wait_and_create(url: str, wait_s: float) -> None:
    """Wait for the server, create the database if it is missing, wait for the database."""
    from sqlalchemy.engine import make_url

    from ringrift.storage import migrations
    from ringrift.storage.database import normalise_url, wait_for_database

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "postgresql" and parsed.database:
        wait_for_database(parsed.set(database="postgres").render_as_string(hide_password=False),
                          timeout_s=wait_s)
        if migrations.create_database_if_missing(url):
            print(f"created database {parsed.database}")
    wait_for_database(url, timeout_s=wait_s)


def _heads(heads: tuple[str, ...]) -> str:
    return ", ".join(heads) or "base (empty)"


def _register_artifacts(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "artifacts", help="store, verify and fetch content-addressed artifacts",
        description="Put a file into the artifact store (--artifact-dir, env "
        "RINGRIFT_ARTIFACT_DIR) and print its URI and sha256, or verify or fetch an artifact "
        "by URI, checking its bytes against the sha256.",
    )
    actions = parser.add_subparsers(dest="artifacts_action", metavar="ACTION", required=True)
    put = actions.add_parser("put", help="store FILE; prints: URI SHA256 SIZE")
    put.add_argument("file")
    add_artifact_dir_option(put)
    for name, help_text in (("verify", "check that the artifact at URI is intact"),
                            ("get", "copy the artifact at URI to --output, checked")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("uri")
        action.add_argument("--sha256", help="the sha256 the event promised (default: the "
                            "one in the URI)")
        if name == "get":
            action.add_argument("-o", "--output", required=True, help="file to write")
    parser.set_defaults(func=run_artifacts)


def run_artifacts(args: argparse.Namespace) -> int:
    import shutil

    from ringrift.storage.artifacts import open_store, store_for_uri

    if args.artifacts_action == "put":
        ref = open_store(args.artifact_dir).put_file(args.file)
        print(f"{ref.uri} {ref.sha256} {ref.size}")
        return 0
    # Reading needs no store location: the URI names its file, or its bucket and key.
    path = store_for_uri(args.uri).local_path(args.uri, args.sha256)
    if args.artifacts_action == "verify":
        print(f"ok {path.stat().st_size} bytes")
        return 0
    shutil.copyfile(path, args.output)
    return 0
