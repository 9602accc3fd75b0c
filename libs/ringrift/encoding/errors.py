"""Errors of the encoder."""

from __future__ import annotations

from ringrift.errors import PoisonMessage


class EncodingError(PoisonMessage):
    """A move or state the encoder cannot represent (a meta move, a foreign board, ...)."""
