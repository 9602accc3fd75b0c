"""What a local pipeline run is: where its state lives, which broker and database, budgets.

:class:`UpSettings` is everything ``ringrift up`` (``make run``) and the end-to-end test
decide before starting anything. Paths are resolved once, here, so every service gets
absolute locations whatever its working directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ringrift.configs import ALL_CONFIGS
from ringrift.errors import ConfigurationError

CONFIG_KEYS = tuple(config.key for config in ALL_CONFIGS)


@dataclass(frozen=True)
class UpSettings:
    """One local run of the pipeline.

    Attributes:
        var_dir: its state: ``kafka/`` (the broker's data), ``db/`` (SQLite databases),
            ``log/`` (a log per process), ``artifacts/``, ``trainer/``, ``up/`` (the
            operator token).
        configs: the configs self-play plays and the trainer trains.
        profile: the budgets (:mod:`ringrift.pipeline.profiles`).
        overrides: ``SERVICE.FIELD=VALUE`` settings on top of the profile.
        device: ``cpu``, ``cuda``, ...; None lets each service choose.
        bootstrap_servers: a broker to use; None runs the local one under ``var/kafka``.
        kafka_port: the local broker's port (the controller takes the next one).
        database_url: a PostgreSQL server (any database name: each service gets its own,
            ``ringrift_<service>``); None puts SQLite files under ``var/db``.
        namespace: topic prefix (tests; empty in real runs).
        http_host: the address the services' HTTP servers bind.
        fixed_ports: each service on its default port (8101-8108); False: free ports.
        grace_s: the services' grace period between SIGTERM and SIGKILL.
    """

    var_dir: Path = Path("var")
    configs: tuple[str, ...] = ("square8_2p",)
    profile: str = "default"
    overrides: tuple[str, ...] = ()
    device: str | None = None
    bootstrap_servers: str | None = None
    kafka_port: int = 9092
    database_url: str | None = None
    namespace: str = ""
    http_host: str = "127.0.0.1"
    fixed_ports: bool = True
    grace_s: float = 25.0
    extra_env: dict[str, str] = field(default_factory=dict)
    """Environment added to every process (tests: quick retries)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "var_dir", Path(self.var_dir).resolve())
        unknown = [key for key in self.configs if key not in CONFIG_KEYS]
        if unknown or not self.configs:
            raise ConfigurationError(f"unknown config(s) {', '.join(unknown) or '(none)'}; "
                                     f"choose from {', '.join(CONFIG_KEYS)}")
        if self.grace_s <= 0:
            raise ConfigurationError(f"--grace-period-s must be > 0, not {self.grace_s}")

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def db_dir(self) -> Path:
        return self.var_dir / "db"

    @property
    def kafka_dir(self) -> Path:
        return self.var_dir / "kafka"

    @property
    def artifact_dir(self) -> Path:
        return self.var_dir / "artifacts"

    @property
    def token_path(self) -> Path:
        return self.var_dir / "up" / "operator-token"
