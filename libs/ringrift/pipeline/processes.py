"""The processes of the pipeline and how each one is started.

Every service runs as ``ringrift service run <service> FLAGS`` (the one way to start a
service) with the environment a deployment gives it: the broker, the artifact store,
its own database, its HTTP address. The cluster monitor runs twice, as the node agent of
this machine and as the monitor, each with its own database so that the two never share
an outbox. :func:`process_specs` turns a :class:`~ringrift.pipeline.settings.UpSettings`
and the prepared infrastructure into the supervisor's :class:`ProcessSpec` list.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from ringrift.pipeline.profiles import override_flags, profile
from ringrift.pipeline.settings import UpSettings
from ringrift.pipeline.supervisor import ProcessSpec
from ringrift.service.names import ServiceName, known_services

PROMOTER_TOKEN_NAME = "local-operator"
"""The name (audit actor) of the operator token ``ringrift up`` gives the promoter."""


@dataclass(frozen=True)
class PipelineProcess:
    """One process of the pipeline: a service, in a role, on a port."""

    name: str
    service: str
    role_flags: tuple[str, ...] = ()
    port: int | None = None
    """Its fixed port; None: the service's default port."""

    @property
    def service_name(self) -> ServiceName:
        return ServiceName(self.service)

    @property
    def default_port(self) -> int:
        return self.port or self.service_name.default_port


PIPELINE: tuple[PipelineProcess, ...] = (
    PipelineProcess("promoter", "promoter"),
    PipelineProcess("cluster-monitor", "cluster-monitor", ("--role", "monitor")),
    PipelineProcess("cluster-monitor-agent", "cluster-monitor", ("--role", "agent"), 8108),
    PipelineProcess("curriculum", "curriculum"),
    PipelineProcess("exporter", "exporter"),
    PipelineProcess("trainer", "trainer"),
    PipelineProcess("evaluator", "evaluator"),
    PipelineProcess("selfplay", "selfplay"),
)
"""Start order: the deciders first, self-play (the source of all work) last."""


def pipeline_processes() -> tuple[list[PipelineProcess], list[str]]:
    """The processes whose service exists under ``services/``, and the missing services."""
    known = set(known_services())
    present = [process for process in PIPELINE if process.service in known]
    missing = sorted({process.service for process in PIPELINE} - known)
    return present, missing


def database_url(settings: UpSettings, process: PipelineProcess) -> str:
    """The process's own database: a SQLite file under ``var/db``, or the database
    ``ringrift_<process>`` on the PostgreSQL server of ``settings.database_url``."""
    from sqlalchemy.engine import make_url

    from ringrift.storage.database import normalise_url

    if settings.database_url is None:
        return f"sqlite:///{settings.db_dir / (process.name + '.db')}"
    server = make_url(normalise_url(settings.database_url))
    return server.set(database="ringrift_" + process.name.replace("-", "_")).render_as_string(
        hide_password=False)


def common_flags(settings: UpSettings, process: PipelineProcess) -> tuple[str, ...]:
    """The flags that follow from the run's settings rather than from the profile."""
    flags: list[str] = []
    if process.service in ("selfplay", "trainer", "curriculum"):
        flags += ["--configs", ",".join(settings.configs)]
    if process.service in ("selfplay", "trainer", "evaluator") and settings.device:
        flags += ["--device", settings.device]
    if process.service == "trainer":
        flags += ["--work-dir", str(settings.var_dir / "trainer")]
    if process.service == "promoter":
        flags += ["--api-token-name", PROMOTER_TOKEN_NAME]
    return tuple(flags)


def process_specs(settings: UpSettings, processes: list[PipelineProcess], *,
                  bootstrap_servers: str, token: str) -> list[ProcessSpec]:
    """The supervisor's specs: command line and environment of every process.

    Raises:
        ConfigurationError: a ``--set`` override or the profile name is wrong.
    """
    budget = profile(settings.profile)
    overrides = override_flags(settings.overrides, [process.name for process in processes])
    specs = []
    for process in processes:
        prefix = process.service_name.env_prefix
        env = os.environ | settings.extra_env | {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "RINGRIFT_TOPIC_NAMESPACE": settings.namespace,
            "RINGRIFT_ARTIFACT_DIR": str(settings.artifact_dir),
            "RINGRIFT_ARTIFACT_CACHE": str(settings.var_dir / "artifact-cache"),
            f"{prefix}DATABASE_URL": database_url(settings, process),
            f"{prefix}HTTP_HOST": settings.http_host,
            f"{prefix}HTTP_PORT": str(process.default_port if settings.fixed_ports else 0),
            f"{prefix}GRACE_PERIOD_S": f"{settings.grace_s:g}",
        }
        if process.service == "promoter":
            env[f"{prefix}API_TOKEN"] = token
        flags = (*process.role_flags, *common_flags(settings, process),
                 *budget.for_process(process.name), *overrides.get(process.name, ()))
        command = (sys.executable, "-m", "ringrift.cli.main", "service", "run",
                   process.service, *flags)
        # The runtime's own grace, plus time to start its shutdown and flush its log.
        specs.append(ProcessSpec(process.name, command, env, grace_s=settings.grace_s + 5))
    return specs
