"""Command-line flags generated from a service's settings, and loading them with clear errors.

Every settings field gets a flag (``http_port`` -> ``--http-port``; fields of the shared
groups get the group's prefix: ``--kafka-bootstrap-servers``, ``--artifact-dir``,
``--log-level``), whose help is the field's docstring plus its env name and default,
so ``--help`` lists every setting. A flag given on the command line wins over the
environment, which wins over the default. A missing or invalid setting stops the
process at start with one line naming the env variable and the flag.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import AliasChoices, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

from ringrift.errors import ConfigurationError
from ringrift.service.settings import GROUPS, ServiceSettings, is_collection

S = TypeVar("S", bound=ServiceSettings)
_GROUP_TITLES = {"kafka": "Kafka (shared by every service)",
                 "artifacts": "artifact store (shared)", "log": "logging (shared)"}


def build_parser(cls: type[ServiceSettings], prog: str | None = None) -> argparse.ArgumentParser:
    """An argument parser with one flag per setting of ``cls`` and its groups."""
    name = cls.service_name()
    parser = argparse.ArgumentParser(
        prog=prog or f"ringrift service run {name.name}", usage="%(prog)s [FLAG VALUE ...]",
        description=(cls.__doc__ or "").strip() + f"\n\nEvery flag has an env variable "
        f"(service settings: {name.env_prefix}<FIELD>); a flag wins over the env.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    own = parser.add_argument_group(f"{name.name} settings")
    runtime = parser.add_argument_group("runtime settings (every service)")
    defaults = cls.derived_defaults()
    for field_name, field in cls.model_fields.items():
        if field_name in GROUPS:
            continue
        group = runtime if field_name in ServiceSettings.model_fields else own
        _add_flag(group, "--", field_name, field, _env_names(cls, field_name, field),
                  defaults.get(field_name, field.get_default(call_default_factory=True)))
    for field_name, (group_cls, prefix) in GROUPS.items():
        group = parser.add_argument_group(_GROUP_TITLES[field_name])
        for sub_name, sub_field in group_cls.model_fields.items():
            _add_flag(group, prefix, sub_name, sub_field, _env_names(group_cls, sub_name,
                                                                     sub_field),
                      sub_field.get_default(call_default_factory=True),
                      dest=f"{field_name}.{sub_name}")
    return parser


def load_settings(cls: type[S], argv: Sequence[str] | None = None,
                  prog: str | None = None) -> S:
    """The settings of ``cls`` from the environment, overridden by the flags in ``argv``.

    Raises:
        ConfigurationError: a setting is missing or invalid (the message names its env
            variable and flag).
        SystemExit: ``--help`` was given, or a flag is unknown (argparse's own exit).
    """
    args = vars(build_parser(cls, prog).parse_args(argv))
    groups: dict[str, Any] = {}
    for field_name, (group_cls, prefix) in GROUPS.items():
        given = {key.split(".", 1)[1]: value for key, value in args.items()
                 if key.startswith(f"{field_name}.")}
        groups[field_name] = _build(group_cls, prefix, given)
    own = {key: value for key, value in args.items() if "." not in key}
    return _build(cls, "--", own | groups)


def effective_settings(settings: BaseSettings) -> str:
    """The settings as one JSON line with secrets and URL passwords masked, for the log."""
    def mask(value: Any, key: str = "") -> Any:
        if isinstance(value, SecretStr):
            return "**********" if value.get_secret_value() else ""
        if isinstance(value, BaseSettings):
            return {name: mask(getattr(value, name), name) for name in type(value).model_fields}
        if isinstance(value, str) and key.endswith("_url") and "://" in value:
            try:
                return make_url(value).render_as_string(hide_password=True)
            except Exception:  # not a URL SQLAlchemy parses: show nothing of it
                return "(unparseable URL)"
        return value
    return json.dumps(mask(settings), default=str, sort_keys=False)


def _build(cls: type[Any], prefix: str, values: dict[str, Any]) -> Any:
    try:
        return cls(**values)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            field_name = str(detail["loc"][0]) if detail["loc"] else ""
            field = cls.model_fields.get(field_name)
            env = _env_names(cls, field_name, field)[0] if field else "?"
            flag = prefix + field_name.replace("_", "-")
            what = "missing setting" if detail["type"] == "missing" else "invalid setting"
            shown = "" if detail["type"] == "missing" or _is_secret(field) else \
                f" (got {detail.get('input')!r})"
            problems.append(f"{what} {env} (flag {flag}): {detail['msg']}{shown}")
        raise ConfigurationError("; ".join(problems)) from None


def _add_flag(group: argparse._ArgumentGroup, prefix: str, name: str, field: FieldInfo,
              envs: list[str], default: Any, dest: str | None = None) -> None:
    flag = (field.json_schema_extra or {}).get("flag") if isinstance(
        field.json_schema_extra, dict) else None
    flag = str(flag or prefix + name.replace("_", "-"))
    shown = "required" if field.is_required() else f"default: {_shown_default(field, default)}"
    help_text = f"{(field.description or '').rstrip('.')} (env {' or '.join(envs)}; {shown})"
    help_text = help_text.replace("%", "%%")  # argparse formats help with %
    kwargs: dict[str, Any] = {"dest": dest or name, "default": argparse.SUPPRESS,
                              "help": help_text}
    if field.annotation is bool:
        group.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
    else:
        metavar = "A,B,..." if is_collection(field.annotation) else name.upper()
        group.add_argument(flag, metavar=metavar, **kwargs)


def _env_names(cls: type[Any], name: str, field: FieldInfo | None) -> list[str]:
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices):
        names = [str(choice) for choice in alias.choices if str(choice).isupper()]
        if names:
            return names
    return [f"{cls.model_config.get('env_prefix', '')}{name}".upper()]


def _shown_default(field: FieldInfo, default: Any) -> str:
    if _is_secret(field):
        return "unset"
    if default is None or default == "":
        return "unset"
    if isinstance(default, list | tuple):
        return ",".join(map(str, default)) or "empty"
    return str(default)


def _is_secret(field: FieldInfo | None) -> bool:
    return field is not None and "SecretStr" in str(field.annotation)
