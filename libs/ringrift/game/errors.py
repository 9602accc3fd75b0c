"""Errors raised by the rules engine and its wire formats.

Both are ``PoisonMessage``: a malformed or illegal game payload never becomes
valid by retrying, so a consumer dead-letters it and carries on.
"""

from __future__ import annotations

from ringrift.errors import PoisonMessage


class WireFormatError(PoisonMessage):
    """A game state, move or record JSON document is malformed.

    ``path`` locates the bad field in JSON-pointer-like dotted form, e.g.
    ``board.stacks["3,4"].rings[0]``; the message says what is wrong there.
    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}" if path else message)


class IllegalMoveError(PoisonMessage):
    """A well-formed move that is not legal in the state it is applied to.

    The message names the move and why it is refused (wrong player, game over,
    off-board cell, not among the legal moves).
    """


class ReplayMismatchError(PoisonMessage):
    """A replayed game does not reach the state its record says it reached."""
