"""Connection and behaviour settings of the event backbone, read from the environment.

Services nest :class:`KafkaSettings` in their own settings class; a command builds it
directly. ``KAFKA_BOOTSTRAP_SERVERS`` is honoured as well as the prefixed name, so that
tests, commands and services pointed at one environment agree on the broker.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ringrift.errors import ConfigurationError


class KafkaSettings(BaseSettings):
    """How to reach the broker and how the consumer loop retries (env ``RINGRIFT_KAFKA_*``)."""

    # Field docstrings become their descriptions: the --help text of each --kafka-* flag.
    model_config = SettingsConfigDict(env_prefix="RINGRIFT_KAFKA_", populate_by_name=True,
                                      extra="ignore", use_attribute_docstrings=True)

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("bootstrap_servers", "RINGRIFT_KAFKA_BOOTSTRAP_SERVERS",
                                      "KAFKA_BOOTSTRAP_SERVERS"),
    )
    """Comma-separated host:port list of the brokers."""
    security_protocol: str = "PLAINTEXT"
    """librdkafka's security.protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."""
    sasl_mechanism: str | None = None
    """SASL mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512); needs the username and password."""
    sasl_username: str | None = None
    """SASL user name (with the mechanism)."""
    sasl_password: SecretStr | None = None
    """SASL password (a secret: masked in logs)."""
    replication_factor: int = Field(default=1, ge=1)
    """Replicas of each provisioned topic: 1 on one machine, 3 on a cluster."""
    session_timeout_ms: int = Field(default=10_000, ge=6_000)
    """How soon the group notices a dead consumer (the broker's minimum is 6 s)."""
    auto_commit_interval_ms: int = Field(default=1_000, ge=100)
    """How often stored offsets are committed; the loop also commits on revoke and close."""
    max_poll_interval_ms: int = Field(default=300_000, ge=6_000)
    """The longest gap between two polls before the group evicts the consumer. The loop
    polls all the time (long work runs as jobs beside it), so the default is plenty."""
    max_attempts: int = Field(default=5, ge=1)
    """Attempts for a handler error that is neither poison nor an outage, before the record
    is dead-lettered. Outages (retryable and infrastructure errors) are retried without limit."""
    retry_backoff_initial_s: float = Field(default=0.2, gt=0)
    """First wait before a failed record (or a partition in an outage) is tried again; it
    doubles with each failure."""
    retry_backoff_max_s: float = Field(default=10.0, gt=0)
    """The longest wait between two tries (an outage is retried at least this often)."""
    max_message_bytes: int = Field(default=1_000_000, ge=10_000)
    """The largest record the producer sends (the broker's ``message.max.bytes`` must be at
    least this); dead letters are cut to fit under it."""
    job_workers: int = Field(default=1, ge=1)
    """Long-work jobs one process runs at a time (their partitions wait their turn)."""
    job_lease_s: float = Field(default=30.0, gt=0)
    """How long a running job's heartbeat stays valid: a job whose owner was killed is taken
    over by the next owner of its partition once this has passed since its last heartbeat."""
    outbox_retention_hours: float = Field(default=168.0, gt=0)
    """How long published outbox rows, and finished jobs, are kept (for inspection) before
    they are pruned."""
    processed_retention_days: float | None = Field(default=None, gt=0)
    """How long processed event ids are kept. Default: the longest retention of the consumed
    topics plus a day (a record cannot come again once the topic has dropped it); a
    compacted topic keeps its records, so its consumers keep their ids for good."""
    batch_size: int = Field(default=500, ge=1)
    """Records handled in one database transaction when that many are waiting."""
    linger_ms: int = Field(default=5, ge=0)
    """How long the producer waits to fill a batch: throughput against latency."""
    connect_timeout_s: float = Field(default=15.0, gt=0)
    """How long commands wait for the broker to answer before naming the problem."""
    publish_timeout_s: float = Field(default=30.0, gt=0)
    """How long a flush waits for acknowledgements before raising PublishError."""

    @model_validator(mode="after")
    def _check(self) -> KafkaSettings:
        if not self.bootstrap_servers.strip():
            raise ConfigurationError("RINGRIFT_KAFKA_BOOTSTRAP_SERVERS is empty; set it to "
                                     "host:port of a broker (e.g. 127.0.0.1:9092)")
        if self.sasl_mechanism and (self.sasl_username is None or self.sasl_password is None):
            raise ConfigurationError("RINGRIFT_KAFKA_SASL_MECHANISM is set but "
                                     "RINGRIFT_KAFKA_SASL_USERNAME/_PASSWORD are not")
        return self

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings shared by producers, consumers and the admin client."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            # librdkafka's own messages go through the one logging set-up, not raw stderr.
            "logger": logging.getLogger("ringrift.events.librdkafka"),
        }
        if self.sasl_mechanism:
            assert self.sasl_password is not None
            config |= {"sasl.mechanism": self.sasl_mechanism,
                       "sasl.username": self.sasl_username,
                       "sasl.password": self.sasl_password.get_secret_value()}
        return config
