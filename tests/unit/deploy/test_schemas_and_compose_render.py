"""Schema conversion for kubeconform, and Compose's variable substitution.

Checks: a Kubernetes schema's references to the shared definitions file become local and
every definition it reaches (and only those) is inlined; a CRD's schema refuses unknown
fields except where it preserves them, spells int-or-string and nullable in JSON Schema,
and names its files by group, kind and version; a non-CRD is refused. Compose-style
substitution handles defaults, required variables (naming them), ``$$`` escapes and
plain ``$VAR``.
"""

from __future__ import annotations

import jsonschema
import pytest

from ringrift.deploy.compose import interpolate
from ringrift.deploy.schemas import crd_schemas, inline_definitions, strict
from ringrift.errors import ConfigurationError

DEFINITIONS = {
    "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
    "B": {"type": "string"},
    "Unused": {"type": "integer"},
}


def test_inline_definitions_makes_references_local_and_closed() -> None:
    schema = {"properties": {"a": {"$ref": "/api/_definitions.json#/$defs/A"}}}
    result = inline_definitions(schema, DEFINITIONS)

    assert result["properties"]["a"]["$ref"] == "#/$defs/A"
    assert set(result["$defs"]) == {"A", "B"}
    validator = jsonschema.Draft7Validator(result)
    assert validator.is_valid({"a": {"b": "text"}})
    assert not validator.is_valid({"a": {"b": 3}})
    assert schema["properties"]["a"]["$ref"].startswith("/api/")  # input left as it was


def test_strict_crd_schema() -> None:
    openapi = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "port": {"x-kubernetes-int-or-string": True},
            "name": {"type": "string", "nullable": True},
            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                       "properties": {"known": {"type": "string"}}},
            "default": {"type": "object", "properties": {"x": {"type": "string"}},
                        "default": {"properties": "kept as data"}},
        }}}}
    validator = jsonschema.Draft7Validator(strict(openapi))

    assert validator.is_valid({"spec": {"port": 80, "name": None, "config": {"other": 1}}})
    assert validator.is_valid({"spec": {"port": "http"}})
    assert not validator.is_valid({"spec": {"port": 1.5}})
    assert not validator.is_valid({"spec": {"typo": 1}})
    assert not validator.is_valid({"other": 1})
    assert strict(openapi)["properties"]["spec"]["properties"]["default"]["default"] == {
        "properties": "kept as data"}


def test_crd_schema_file_names() -> None:
    crd = {"kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.io"},
           "spec": {"group": "example.io", "names": {"kind": "Widget"}, "versions": [
               {"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}},
               {"name": "v2", "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    assert sorted(crd_schemas(crd)) == ["example.io/widget_v1.json", "example.io/widget_v2.json"]
    with pytest.raises(ValueError, match="not a CustomResourceDefinition"):
        crd_schemas({"kind": "Deployment"})


@pytest.mark.parametrize("text,expected", [
    ("${SET}", "value"),
    ("$SET/x", "value/x"),
    ("${UNSET:-fallback}", "fallback"),
    ("${EMPTY:-fallback}", "fallback"),
    ("${EMPTY-fallback}", ""),
    ("${SET:+alternative}", "alternative"),
    ("${UNSET}", ""),
    ("$$service and $${SET}", "$service and ${SET}"),
])
def test_interpolation(text: str, expected: str) -> None:
    assert interpolate(text, {"SET": "value", "EMPTY": ""}) == expected


def test_required_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="POSTGRES_PASSWORD .*set it in .env"):
        interpolate("${POSTGRES_PASSWORD:?set it in .env}", {"POSTGRES_PASSWORD": ""})
    assert interpolate("${POSTGRES_PASSWORD:?set it}", {"POSTGRES_PASSWORD": "pw"}) == "pw"
