"""Checks of what arrives on the bus, before anything is written: configs, ids, weights.

A failed check is a :class:`~ringrift.errors.PoisonMessage` naming the event and the field
(dead-lettered; the stream goes on), except an object store that does not answer, which is
retried.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from google.protobuf.message import Message

from ringrift.configs import ALL_CONFIGS
from ringrift.errors import PoisonMessage
from ringrift.events.envelope import Event
from ringrift.storage.artifacts import store_for_uri
from ringrift.storage.errors import ArtifactError, ArtifactStoreUnavailable

CONFIG_KEYS = frozenset(config.key for config in ALL_CONFIGS)
SHA256 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

WeightsCheck = Callable[[str, str], None]
"""Checks that the artifact at a URI is there and hashes to the sha256 (raises if not)."""


def verify_weights(uri: str, sha256: str) -> None:
    """The artifact store's check of a model's weights (read once and hashed).

    Raises:
        PoisonMessage: the weights are missing, corrupt, or the URI is not an artifact's.
        ArtifactStoreUnavailable: the object store did not answer (retried).
    """
    try:
        store_for_uri(uri).local_path(uri, sha256)
    except ArtifactStoreUnavailable:
        raise
    except ArtifactError as error:
        raise PoisonMessage(f"the weights of the candidate are unusable: {error}") from error


def checked_config(event: Event[Message], config_key: str, what: str) -> str:
    """``config_key`` after checking it is a registry config and the envelope's.

    Raises:
        PoisonMessage: it is not, or the envelope names another config.
    """
    if config_key not in CONFIG_KEYS:
        raise PoisonMessage(f"{what} has config {config_key!r}, which is not one of "
                            f"{', '.join(sorted(CONFIG_KEYS))}")
    if event.config_key != config_key:
        raise PoisonMessage(f"{what}: the envelope's config {event.config_key!r} differs from "
                            f"the payload's {config_key!r}")
    return config_key


def checked_id(value: str, field: str, what: str) -> str:
    """``value`` after checking it is a usable id (1-64 characters, no spaces).

    Raises:
        PoisonMessage: it is empty or malformed.
    """
    if not _ID.fullmatch(value):
        raise PoisonMessage(f"{what} has {field} {value!r}: expected 1-64 letters, digits, "
                            "'.', '_', ':' or '-'")
    return value
