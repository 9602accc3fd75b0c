"""``ringrift service``: the one way to start any service, and the list of them.

    ringrift service list                       # services, their ports and env prefixes
    ringrift service run exporter [FLAGS...]    # start one; FLAGS are the service's own
    ringrift service run exporter --help        # every setting, its env name and default

``run`` imports ``services.<module>.main`` and calls its ``main(argv)`` with the flags
that follow the name, so a container's command, a local shell and a test all start a
service the same way.
"""

from __future__ import annotations

import argparse
import importlib


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "service", help="run one of the pipeline's services, or list them",
        description="Run a service of the pipeline (selfplay, exporter, trainer, evaluator, "
        "promoter, curriculum, cluster-monitor, example) or list them. "
        "`ringrift service run NAME --help` lists the service's settings.")
    actions = parser.add_subparsers(dest="service_action", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", help="start a service (flags after NAME go to the service)",
        description="Start the service NAME in this process. Everything after NAME is the "
        "service's own flags; `ringrift service run NAME --help` lists them.",
        usage="ringrift service run NAME [SERVICE FLAGS...]")
    run.add_argument("name", help="the service, e.g. exporter or cluster-monitor")
    run.add_argument("service_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    run.set_defaults(func=_run)
    listing = actions.add_parser("list", help="the services there are, with port and env prefix")
    listing.set_defaults(func=_list)


def _run(args: argparse.Namespace) -> int:
    from ringrift.errors import ConfigurationError
    from ringrift.service.names import ServiceName, known_services

    name = ServiceName.parse(args.name)
    if name.name not in known_services():
        raise ConfigurationError(f"no service {args.name!r}; known: "
                                 f"{', '.join(known_services()) or 'none'}")
    module = importlib.import_module(f"services.{name.module}.main")
    # `ringrift --log-level DEBUG service run x` must hold in the service too; a flag after
    # the name still wins (argparse keeps the last one).
    logging_flags = ["--log-level", args.log_level, "--log-json" if args.log_json else
                     "--no-log-json"]
    return int(module.main([*logging_flags, *args.service_args]) or 0)


def _list(_args: argparse.Namespace) -> int:
    from ringrift.service.names import ServiceName, known_services

    for service in known_services():
        name = ServiceName(service)
        print(f"{name.name:16} port {name.default_port}  env {name.env_prefix}*  "
              f"database {name.default_database_url}")
    return 0
