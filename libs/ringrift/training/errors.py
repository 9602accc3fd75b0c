"""Errors of training data and the trainer; each message names the file and the fix."""

from __future__ import annotations

from ringrift.errors import PoisonMessage, RingriftError


class TrainingError(RingriftError):
    """Training could not run as asked."""


class ShardError(TrainingError, PoisonMessage):
    """A shard file is unreadable or its arrays are inconsistent; it never becomes valid."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"training shard {path} is invalid: {reason}; "
                         "re-export it from its games or drop it from the window")


class ShardMismatch(TrainingError):
    """A valid shard made for another config, encoder version or policy size."""

    def __init__(self, path: str, field: str, expected: object, found: object) -> None:
        self.path = path
        self.field = field
        super().__init__(
            f"training shard {path} has {field} {found!r} but {expected!r} is required; "
            "train on shards exported for this config with the current encoder"
        )
