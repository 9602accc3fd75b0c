"""``ringrift db`` and ``ringrift artifacts``: the database's schema and the artifact store.

``ringrift db upgrade`` brings the database named by ``--database-url`` (env
``DATABASE_URL``; SQLite file by default) to the newest schema; it is what the
``migrate`` one-shot of docker-compose runs before the services start.
``ringrift artifacts put|verify|get`` store a file in the content-addressed store
and check or fetch one by the URI and sha256 an event carries.
"""

from __future__ import annotations

import argparse
import logging

from ringrift.cli.options import add_artifact_dir_option, add_database_option


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_db(subparsers)
    _register_artifacts(subparsers)


def _register_db(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db", help="migrate the database (Alembic) and show its revision",
        description="Migrate the database named by --database-url (env DATABASE_URL; a SQLite "
        "file by default) with the project's Alembic migrations, or show its revision.",
    )
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)

    upgrade = actions.add_parser("upgrade", help="migrate to the newest schema (or --revision)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                         help="wait this long for the database to answer first (default: 30)")
    downgrade = actions.add_parser("downgrade", help="migrate back to REVISION ('base': empty)")
    downgrade.add_argument("revision")
    actions.add_parser("current", help="print the database's revision and the newest one")
    revision = actions.add_parser(
        "revision", help="write a new, empty migration file into the source tree")
    revision.add_argument("-m", "--message", required=True, help="what the migration changes")
    revision.add_argument("--rev-id", required=True,
                          help="revision id, numbered like the others: 000N_short_name")
    for sub in (upgrade, downgrade, actions.choices["current"]):
        add_database_option(sub)
    parser.set_defaults(func=run_db)


def run_db(args: argparse.Namespace) -> int:
    # Alembic announces each of its plugins at INFO when imported; only migrations matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Alembic and SQLAlchemy load only when a db command runs, keeping `ringrift --help` fast.
    from alembic import command
    from sqlalchemy.exc import OperationalError

    from ringrift.storage import migrations
    from ringrift.storage.database import wait_for_database
    from ringrift.storage.errors import DatabaseUnavailable

    if args.db_action == "revision":
        command.revision(migrations.alembic_config("sqlite://"), message=args.message,
                         rev_id=args.rev_id)
        return 0
    try:
        if args.db_action == "upgrade":
            wait_for_database(args.database_url, timeout_s=args.wait)
            migrations.upgrade(args.database_url, args.revision)
            print(f"database at {migrations.current_revision(args.database_url)}")
        elif args.db_action == "downgrade":
            migrations.downgrade(args.database_url, args.revision)
            print(f"database at {migrations.current_revision(args.database_url) or 'base'}")
        else:
            print(f"current: {migrations.current_revision(args.database_url) or 'base (empty)'}")
            print(f"head:    {migrations.head_revision()}")
    except OperationalError as error:
        raise DatabaseUnavailable(f"database error: {str(error.orig or error).strip()}") from None
    return 0


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

    from ringrift.storage.artifacts import DirectoryArtifactStore, open_store

    if args.artifacts_action == "put":
        ref = open_store(args.artifact_dir).put_file(args.file)
        print(f"{ref.uri} {ref.sha256} {ref.size}")
        return 0
    # Reading needs no store root: a file:// URI names its file.
    path = DirectoryArtifactStore(".").local_path(args.uri, args.sha256)
    if args.artifacts_action == "verify":
        print(f"ok {path.stat().st_size} bytes")
        return 0
    shutil.copyfile(path, args.output)
    return 0
