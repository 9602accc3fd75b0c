"""Command-line options that many commands share, declared once.

Each ``add_*`` function adds one option group to a parser; defaults come from the
environment variables the services read too, so a command and a service pointed
at the same environment agree.
"""

from __future__ import annotations

import argparse
import os

from ringrift.configs import BOARD_TYPES, PLAYER_COUNTS, GameConfig


def add_config_options(parser: argparse.ArgumentParser, *, default_board: str = "square8",
                       default_players: int = 2) -> None:
    """``--board`` and ``--players``; read them back with :func:`config_from_args`."""
    parser.add_argument("--board", choices=BOARD_TYPES, default=default_board,
                        help=f"board type (default: {default_board})")
    parser.add_argument("--players", type=int, choices=PLAYER_COUNTS, default=default_players,
                        help=f"number of players (default: {default_players})")


def config_from_args(args: argparse.Namespace) -> GameConfig:
    return GameConfig(args.board, args.players)


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """``--database-url``: SQLAlchemy URL; SQLite file by default for a one-machine run."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "sqlite:///var/ringrift.db"),
        help="SQLAlchemy database URL (env DATABASE_URL; default: sqlite:///var/ringrift.db)",
    )


def add_kafka_option(parser: argparse.ArgumentParser) -> None:
    """``--bootstrap-servers``: the Kafka broker(s) to talk to."""
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS; default: 127.0.0.1:9092)",
    )


def add_artifact_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--artifact-dir``: the content-addressed artifact store, a directory or s3:// URL."""
    parser.add_argument(
        "--artifact-dir",
        default=os.environ.get("RINGRIFT_ARTIFACT_DIR", "var/artifacts"),
        help="content-addressed artifact store: a directory, or s3://bucket/prefix for "
        "object storage (env RINGRIFT_ARTIFACT_DIR; default: var/artifacts)",
    )
