"""One logging set-up for every process: plain text for people, JSON lines when asked.

Call :func:`configure_logging` once at start (the CLI and each service's
``main.py`` do). Structured context (config, topic, partition, offset, game_id)
is passed with ``extra=`` and shows up as fields in JSON lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines; extras appended as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{k}={v}" for k, v in vars(record).items()
                  if k not in _STANDARD_ATTRS and not k.startswith("_")]
        return f"{line} {' '.join(extras)}" if extras else line


def add_logging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default=os.environ.get("RINGRIFT_LOG_LEVEL", "INFO"),
                        type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log level (env RINGRIFT_LOG_LEVEL; default: INFO)")
    parser.add_argument("--log-json", action="store_true",
                        default=os.environ.get("RINGRIFT_LOG_JSON", "") not in ("", "0", "false"),
                        help="write logs as JSON lines (env RINGRIFT_LOG_JSON)")


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Send all logging to stderr in the chosen format, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if json_lines else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
