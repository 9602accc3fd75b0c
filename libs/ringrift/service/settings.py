"""The settings every service has, and the shared groups each one nests.

A service declares one class: ``class ExporterSettings(ServiceSettings)`` with
``service = "exporter"`` and its own fields (each with a docstring: it becomes the
``--help`` text). Its own fields and the runtime fields below are read from
``RINGRIFT_<SERVICE>_<FIELD>``; the groups every service shares are read from their
shared names, so one environment (a compose file, a ConfigMap) sets them once:
``KafkaSettings`` (``RINGRIFT_KAFKA_*``, ``KAFKA_BOOTSTRAP_SERVERS``),
:class:`ArtifactSettings` (``RINGRIFT_ARTIFACT_DIR``), :class:`LogSettings`
(``RINGRIFT_LOG_LEVEL``, ``RINGRIFT_LOG_JSON``), and the topic namespace.
:func:`ringrift.service.flags.load_settings` builds them from the environment and the
command line (flags win) and names any missing or invalid setting.

Lists are written as comma-separated values in the environment and on the command
line (``RINGRIFT_SELFPLAY_CONFIGS=square8_2p,hex8_2p``), not as JSON.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ringrift.events.settings import KafkaSettings
from ringrift.service.cluster import default_node_id
from ringrift.service.names import ServiceName
from ringrift.storage.artifacts import ArtifactStore, open_store


class ArtifactSettings(BaseSettings):
    """Where the content-addressed artifact store is (env ``RINGRIFT_ARTIFACT_*``)."""

    model_config = SettingsConfigDict(env_prefix="RINGRIFT_ARTIFACT_", extra="ignore",
                                      use_attribute_docstrings=True)

    dir: str = "var/artifacts"
    """The artifact store, shared by every service: a directory, file:// URI or s3://bucket/prefix."""

    def open(self) -> ArtifactStore:
        return open_store(self.dir)


class LogSettings(BaseSettings):
    """How the process logs (env ``RINGRIFT_LOG_*``)."""

    model_config = SettingsConfigDict(env_prefix="RINGRIFT_LOG_", extra="ignore",
                                      use_attribute_docstrings=True, populate_by_name=True)

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The log level."""
    json_lines: bool = Field(default=False, validation_alias=AliasChoices(
        "json_lines", "RINGRIFT_LOG_JSON"), json_schema_extra={"flag": "--log-json"})
    """Write logs as JSON lines (for log collectors) instead of plain text."""

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


GROUPS: dict[str, tuple[type[BaseSettings], str]] = {
    "kafka": (KafkaSettings, "--kafka-"),
    "artifacts": (ArtifactSettings, "--artifact-"),
    "log": (LogSettings, "--log-"),
}
"""The shared groups every service nests: field name -> (class, flag prefix)."""


class ServiceSettings(BaseSettings):
    """The runtime's settings of one service; subclass it and set ``service``."""

    service: ClassVar[str] = ""
    """The service's canonical name (hyphens), e.g. ``cluster-monitor``."""

    model_config = SettingsConfigDict(extra="ignore", use_attribute_docstrings=True,
                                      enable_decoding=False, populate_by_name=True)

    database_url: str = ""
    """The service's own database (SQLAlchemy URL), never shared with another service."""
    http_host: str = "0.0.0.0"
    """Address of the HTTP server (/healthz, /readyz, /metrics and any REST routes)."""
    http_port: int = Field(default=0, ge=0, le=65535)
    """Port of the HTTP server; 0 picks a free one (logged at start)."""
    consumer_group: str = ""
    """The Kafka consumer group; default: the service name."""
    instance_id: str = ""
    """This replica's stable id (e.g. the pod name): static group membership and replica id."""
    topic_namespace: str = Field(default="", validation_alias=AliasChoices(
        "topic_namespace", "RINGRIFT_TOPIC_NAMESPACE"))
    """Prefix '<namespace>.' on every topic this service reads or writes (test isolation)."""
    node_id: str = Field(default="", validation_alias=AliasChoices(
        "node_id", "RINGRIFT_NODE_ID"))
    """The node (machine) this process runs on, as the cluster monitor names it; default:
    the hostname (on Kubernetes set it from the pod's spec.nodeName)."""
    grace_period_s: float = Field(default=25.0, gt=0)
    """Seconds SIGTERM allows to finish or checkpoint the work in hand before exiting."""
    heartbeat_timeout_s: float = Field(default=60.0, gt=0)
    """/healthz fails once the processing loop has not beaten for this many seconds."""
    lag_interval_s: float = Field(default=10.0, gt=0)
    """How often consumer lag (records per partition) is refreshed for /metrics."""
    max_events: int | None = Field(default=None, ge=1)
    """Stop after handling this many events (bounded runs and tests)."""
    exit_when_idle: float | None = Field(default=None, gt=0)
    """Stop once no event has arrived and no work was done for this many seconds."""

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.service:  # env names follow the service: RINGRIFT_<SERVICE>_<FIELD>
            cls.model_config = {**cls.model_config,
                                "env_prefix": ServiceName(cls.service).env_prefix}

    @classmethod
    def service_name(cls) -> ServiceName:
        return ServiceName(cls.service)

    @classmethod
    def derived_defaults(cls) -> dict[str, Any]:
        """The defaults that follow from the service's name."""
        name = cls.service_name()
        return {"database_url": name.default_database_url, "http_port": name.default_port,
                "consumer_group": name.name, "node_id": default_node_id()}

    @model_validator(mode="before")
    @classmethod
    def _fill_derived(cls, data: Any) -> Any:
        if isinstance(data, dict) and cls.service:
            for key, value in cls.derived_defaults().items():
                if data.get(key) in (None, ""):
                    data[key] = value
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _split_lists(cls, value: Any, info: ValidationInfo) -> Any:
        """``a,b,c`` for list-typed fields, in the environment and on the command line."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, str) and field is not None and is_collection(field.annotation):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def topic_prefix(self) -> str:
        return f"{self.topic_namespace}." if self.topic_namespace else ""


def is_collection(annotation: Any) -> bool:
    origins = {typing.get_origin(arm) for arm in typing.get_args(annotation)} | {
        typing.get_origin(annotation)}
    return bool(origins & {list, tuple, set, frozenset})
