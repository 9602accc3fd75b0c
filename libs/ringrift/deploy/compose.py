"""Render ``docker-compose.yml`` as Compose would, and the Compose Specification's schema.

No Docker engine runs on the project's machines, so the compose file is checked offline:
:func:`render` substitutes variables the way Compose does (``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``$$`` for a literal ``$``) and
loads the YAML with its anchors and merge keys resolved; :func:`compose_schema` is the
JSON Schema of the Compose Specification, from the ``compose-go`` module that Docker
Compose itself validates with.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ringrift.errors import ConfigurationError
from ringrift.localinfra import gotools
from ringrift.localinfra.toolcache import ensure_directory

REPO_ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
COMPOSE_GO = ("github.com/compose-spec/compose-go/v2", "v2.16.2")
"""v2.17 needs Go 1.26.11."""
_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


def compose_schema() -> Path:
    """The path of ``compose-spec.json`` from compose-go, fetched once."""
    module, version = COMPOSE_GO

    def make(scratch: Path) -> None:
        source = gotools.download_module(module, version) / "schema" / "compose-spec.json"
        shutil.copy(source, scratch / "compose-spec.json")

    return ensure_directory(f"compose-spec-{version}", make) / "compose-spec.json"


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` with its variables substituted from ``env``, as Compose does.

    Raises:
        ConfigurationError: a required variable (``${VAR:?message}``) is unset or empty,
            or a reference is malformed; the message names it.
    """
    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("plain"):
            return env.get(match.group("plain"), "")
        braced = _BRACED.match(match.group("braced"))
        if braced is None:
            raise ConfigurationError(f"invalid variable reference ${{{match.group('braced')}}}")
        name, op, arg = braced.group("name"), braced.group("op"), braced.group("arg") or ""
        value = env.get(name)
        missing = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if missing else str(value)
        if op in (":?", "?"):
            if missing:
                raise ConfigurationError(f"required variable {name} is missing a value: {arg}")
            return str(value)
        if op in (":+", "+"):
            return "" if missing else arg
        return value or ""

    return _VARIABLE.sub(substitute, text)


def render(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as a mapping, its variables substituted from ``env``.

    Raises:
        ConfigurationError: a required variable is missing (see :func:`interpolate`).
    """
    # Compose substitutes in values, never in keys or comments; substituting the text
    # before parsing is the same for this file (no variables in keys) and simpler.
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    return yaml.safe_load(interpolate("\n".join(lines), env))


def services_with_profile(compose: dict[str, Any], profile: str) -> set[str]:
    """The services ``docker compose up`` starts with ``COMPOSE_PROFILES=profile``."""
    return {name for name, service in compose["services"].items()
            if not service.get("profiles") or profile in service["profiles"]}
