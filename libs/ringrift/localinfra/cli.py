"""``ringrift infra``: start, stop and inspect the local Kafka broker and PostgreSQL server."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "infra", help="run a local Kafka broker and PostgreSQL server",
        description="Start, stop and inspect the local infrastructure used by tests and "
        "one-machine runs.",
    )
    services = parser.add_subparsers(dest="infra_service", metavar="SERVICE", required=True)
    # Imported here, not at module top, so that `ringrift --help` stays fast.
    from ringrift.localinfra import kafka, postgres

    for name, module, help_text in (
        ("kafka", kafka, "local Apache Kafka broker (KRaft, loopback)"),
        ("postgres", postgres, "local PostgreSQL server"),
    ):
        sub = services.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(func=module.run)
