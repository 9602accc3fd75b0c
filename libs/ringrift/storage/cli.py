"""``ringrift db``: migrate the database and inspect its schema revision.

``ringrift db upgrade`` brings the database named by ``--database-url`` (env
``DATABASE_URL``; SQLite file by default) to the newest schema; it is what the
``migrate`` one-shot of docker-compose runs before the services start.
"""

from __future__ import annotations

import argparse
import logging

from ringrift.cli.options import add_database_option


def register(subparsers: argparse._SubParsersAction) -> None:
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
