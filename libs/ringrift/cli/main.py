"""Entry point of the ``ringrift`` command.

Each area of the project contributes one subcommand through a module with a
``register(subparsers)`` function; ``COMMAND_MODULES`` lists them. Those
modules import only light things at top level, so ``ringrift --help`` stays fast;
heavy imports (torch, numba) happen inside the command's handler.

A handler returns an exit code. A ``RingriftError`` escaping a handler is printed
as one line on stderr (exit 2 for bad usage, 1 otherwise), never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ringrift import __version__
from ringrift.errors import ConfigurationError, RingriftError
from ringrift.telemetry.logging import add_logging_options, configure_logging

# Modules that add a subcommand; add a line here when an area grows a command.
COMMAND_MODULES: tuple[str, ...] = (
    "ringrift.localinfra.cli",
    "ringrift.events.cli",
    "ringrift.storage.cli",
    "ringrift.game.cli",
    "ringrift.evaluation.cli",
    "ringrift.service.cli",
    "ringrift.pipeline.cli",
    "ringrift.deploy.cli",
    "services.exporter.cli",
    "services.promoter.cli",
    "services.trainer.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ringrift",
        description="Train RingRift players the AlphaZero way: rules tools, the pipeline "
        "(ringrift up) and its services.",
    )
    parser.add_argument("--version", action="version", version=f"ringrift {__version__}")
    add_logging_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    configure_logging(level=args.log_level, json_lines=args.log_json)
    try:
        return int(args.func(args) or 0)
    except ConfigurationError as error:
        print(f"ringrift {args.command}: error: {error}", file=sys.stderr)
        return 2
    except RingriftError as error:
        print(f"ringrift {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ringrift {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
