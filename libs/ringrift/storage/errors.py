"""Errors of the storage package.

A missing or corrupt artifact is a :class:`PoisonMessage` as well: an event that
points at it can never be handled, however often it is retried, so a consumer
dead-letters it. A database or object store that does not answer is a
:class:`RetryableError`.
"""

from __future__ import annotations

from ringrift.errors import PoisonMessage, RetryableError, RingriftError


class ArtifactError(RingriftError):
    """Something is wrong with an artifact or its address."""


class ArtifactNotFound(ArtifactError, PoisonMessage):
    """No artifact exists at the URI."""


class ArtifactCorrupt(ArtifactError, PoisonMessage):
    """The artifact's bytes do not hash to the sha256 it is addressed by."""


class ArtifactStoreUnavailable(ArtifactError, RetryableError):
    """The object store did not answer or asked to slow down; a retry may succeed."""


class DatabaseUnavailable(RetryableError):
    """The database did not answer within the time allowed."""
