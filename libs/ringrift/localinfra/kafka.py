"""Local kafka (being written: see the issue of the event backbone)."""

from __future__ import annotations

import argparse

from ringrift.errors import RingriftError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status"])


def run(args: argparse.Namespace) -> int:
    raise RingriftError("not implemented yet")
