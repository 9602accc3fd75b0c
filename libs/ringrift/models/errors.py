"""Errors of the model loader: each names what is wrong and what to do about it.

A wrong checkpoint must stop a run at load time, not after hours of training on
the wrong board (the system we replace lost weeks that way). ``CheckpointMismatch``
is a configuration problem (the file is fine, the caller asked for something
else); ``CorruptCheckpoint`` is also a ``PoisonMessage``: a damaged file never
becomes valid by retrying, so an event pointing at it is dead-lettered.
"""

from __future__ import annotations

from ringrift.errors import PoisonMessage, RingriftError


class CheckpointError(RingriftError):
    """A checkpoint could not be saved or loaded."""


class CheckpointMismatch(CheckpointError):
    """The checkpoint is valid but was made for another board, encoder or architecture.

    Attributes:
        field: the metadata field that differs (``board_type``, ``encoder_version``, ...).
        expected: what the caller needs.
        found: what the checkpoint holds.
    """

    def __init__(self, path: str, field: str, expected: object, found: object,
                 fix: str) -> None:
        self.path = path
        self.field = field
        self.expected = expected
        self.found = found
        super().__init__(
            f"checkpoint {path} does not fit: {field} is {found!r} but {expected!r} is "
            f"required; {fix}"
        )


class CorruptCheckpoint(CheckpointError, PoisonMessage):
    """The file is truncated, damaged or not a RingRift checkpoint at all."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"checkpoint {path} is unreadable: {reason}; re-fetch it from the artifact store "
            "(its sha256 is in the model event) or retrain it"
        )
