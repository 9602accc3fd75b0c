"""The root of every error this project raises on purpose.

Two branches decide what a consumer loop does with a failure: a
``RetryableError`` (broker, storage, timeouts) is retried with backoff, a
``PoisonMessage`` (undecodable, invalid, illegal) is dead-lettered at once.
Everything else that is a ``RingriftError`` is a clear, user-facing failure that
the CLI prints as one line without a traceback.
"""


class RingriftError(Exception):
    """Base class for errors raised deliberately by this project."""


class RetryableError(RingriftError):
    """A transient failure: the same work may succeed if tried again later."""


class PoisonMessage(RingriftError):
    """Input that can never be handled, however often it is retried."""


class ConfigurationError(RingriftError):
    """A setting or argument is missing or invalid; the message names it."""
