"""The names of a service, derived in one place: group, module, env prefix, port, database.

A service is known by one canonical name, the one the topic registry uses for producers
and consumers (hyphens, as in Kubernetes: ``cluster-monitor``). Everything else is
derived from it here, so that the deploy files, the settings and the metrics agree:
its folder and Python module (``services/cluster_monitor``), its env prefix
(``RINGRIFT_CLUSTER_MONITOR_``), its metric prefix (``ringrift_cluster_monitor_``), its
default HTTP port and its default database (``sqlite:///var/db/cluster-monitor.db``).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from ringrift.errors import ConfigurationError

DEFAULT_PORTS: dict[str, int] = {
    "example": 8100,
    "selfplay": 8101,
    "exporter": 8102,
    "trainer": 8103,
    "evaluator": 8104,
    "promoter": 8105,
    "curriculum": 8106,
    "cluster-monitor": 8107,
}
"""Default HTTP port of each service (``/healthz``, ``/readyz``, ``/metrics``, REST):
distinct, so that every service can run on one machine without flags."""
FALLBACK_PORT = 8199
"""The default port of a service missing from :data:`DEFAULT_PORTS` (add it there)."""

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class ServiceName:
    """A service's canonical name and what derives from it."""

    name: str

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ConfigurationError(f"invalid service name {self.name!r}: use lower-case "
                                     "words joined by hyphens, e.g. cluster-monitor")

    @classmethod
    def parse(cls, text: str) -> ServiceName:
        """A name as a user may type it: ``cluster-monitor`` or ``cluster_monitor``."""
        return cls(text.strip().replace("_", "-"))

    @property
    def module(self) -> str:
        """The folder under ``services/`` and the Python package name."""
        return self.name.replace("-", "_")

    @property
    def env_prefix(self) -> str:
        return f"RINGRIFT_{self.module.upper()}_"

    @property
    def metric_prefix(self) -> str:
        return f"ringrift_{self.module}_"

    @property
    def default_port(self) -> int:
        return DEFAULT_PORTS.get(self.name, FALLBACK_PORT)

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///var/db/{self.name}.db"

    @property
    def postgres_database(self) -> str:
        """The database name the deploy files give this service on a PostgreSQL server."""
        return f"ringrift_{self.module}"

    def package_dir(self) -> Path:
        """The service's folder, ``services/<module>/`` (found through the import system).

        Raises:
            ConfigurationError: there is no such service package.
        """
        spec = importlib.util.find_spec("services")
        roots = list(spec.submodule_search_locations or []) if spec else []
        for root in roots:
            candidate = Path(root) / self.module
            if (candidate / "__init__.py").exists():
                return candidate
        raise ConfigurationError(f"no service {self.name!r}: services/{self.module}/ not found"
                                 f"; known: {', '.join(known_services()) or 'none'}")

    def migrations_dir(self) -> Path | None:
        """``services/<module>/migrations/`` if the service has tables of its own."""
        candidate = self.package_dir() / "migrations"
        return candidate if candidate.is_dir() else None


def known_services() -> list[str]:
    """The services that have a ``main.py`` under ``services/``, by canonical name."""
    spec = importlib.util.find_spec("services")
    roots = list(spec.submodule_search_locations or []) if spec else []
    found = {path.parent.name.replace("_", "-") for root in roots
             for path in Path(root).glob("*/main.py")}
    return sorted(found)
