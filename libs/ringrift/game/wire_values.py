"""Typed readers of JSON values for the wire formats (wire-format §1, §4, §5).

Each reader returns the value at a document path or raises a ``WireFormatError``
naming that path and what was expected there, so every reader of states, moves and
records reports bad input the same way.
"""

from __future__ import annotations

from typing import Any

from ringrift.game.errors import WireFormatError
from ringrift.game.move import Position


def read_int(value: Any, path: str, *, minimum: int | None = None) -> int:
    """An integer (not a bool) at ``path``, optionally at least ``minimum``."""
    if type(value) is not int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise WireFormatError(f"expected an integer, got {value!r}", path)
    if minimum is not None and value < minimum:
        raise WireFormatError(f"expected an integer >= {minimum}, got {value}", path)
    return value


def read_str(value: Any, path: str, choices: frozenset[str] | None = None) -> str:
    """A string at ``path``, optionally one of ``choices``."""
    if not isinstance(value, str):
        raise WireFormatError(f"expected a string, got {value!r}", path)
    if choices is not None and value not in choices:
        raise WireFormatError(f"unknown value {value!r}; expected one of {', '.join(sorted(choices))}", path)
    return value


def read_dict(value: Any, path: str) -> dict[str, Any]:
    """A JSON object at ``path``."""
    if not isinstance(value, dict):
        raise WireFormatError(f"expected a JSON object, got {type(value).__name__}", path)
    return value


def read_list(value: Any, path: str) -> list[Any]:
    """A JSON array at ``path``."""
    if not isinstance(value, list):
        raise WireFormatError(f"expected a JSON array, got {type(value).__name__}", path)
    return value


def read_position(value: Any, path: str) -> Position:
    """A ``{"x", "y", "z"?}`` object; ``"z": null`` is the same as no ``z``."""
    if type(value) is not dict:
        raise WireFormatError(f"expected a position object {{x, y[, z]}}, got {value!r}", path)
    try:
        x, y = value["x"], value["y"]
    except KeyError as missing:
        raise WireFormatError(f"position lacks {missing.args[0]!r}", path) from None
    z = value.get("z")
    if type(x) is not int or type(y) is not int or (z is not None and type(z) is not int):
        raise WireFormatError(f"position coordinates must be integers, got {value!r}", path)
    return Position(x, y, z)


def read_optional_position(value: Any, path: str) -> Position | None:
    """A position, or ``None`` for a JSON ``null`` / missing value."""
    return None if value is None else read_position(value, path)
