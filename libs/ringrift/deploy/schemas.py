"""JSON schemas for kubeconform: Kubernetes' own, and those of the CRDs we use.

Kubernetes' schemas come from the ``kubernetes-validate`` wheel (in the Python
environment), which ships them for 1.25-1.37. Its files ``$ref`` a shared
``/api/_definitions.json`` that kubeconform cannot resolve offline (it reports "could
not find schema" after a failed lookup), so :func:`kubernetes_schemas` writes a copy of
each file with the definitions it reaches inlined under ``$defs``.

A CRD's schema is its ``openAPIV3Schema``; :func:`crd_schemas` turns it into what
kubeconform reads, made strict the way kubectl's client-side validation is (an object
with listed properties accepts no others, unless it preserves unknown fields), with
OpenAPI's ``x-kubernetes-int-or-string`` and ``nullable`` spelt in JSON Schema.

Layouts (kubeconform ``-schema-location`` templates): Kubernetes
``{{.ResourceKind}}{{.KindSuffix}}.json``; CRDs
``{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from ringrift.localinfra.toolcache import ensure_directory

KUBERNETES_SCHEMA_VERSION = "v1.37.0"
KUBERNETES_LOCATION = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
CRD_LOCATION = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
_SHARED_REF = re.compile(r"^/api/_definitions\.json#/\$defs/(.+)$")

Schema = dict[str, Any]
# Keys whose values are data or rules, not schemas: left as they are.
_VALUES = frozenset({"default", "example", "enum", "x-kubernetes-validations"})


def kubernetes_schemas(version: str = KUBERNETES_SCHEMA_VERSION) -> Path:
    """A directory of strict, self-contained Kubernetes schemas, made once from the wheel."""
    import kubernetes_validate

    source = (Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
              / f"{version}-local-strict")
    if not source.is_dir():
        raise FileNotFoundError(f"kubernetes-validate has no schemas for {version} at {source}")

    def make(scratch: Path) -> None:
        shared = json.loads((source / "_definitions.json").read_text())
        definitions: dict[str, Schema] = shared["$defs"]
        for path in sorted(source.glob("*.json")):
            if path.name.startswith("_"):
                continue
            schema = inline_definitions(json.loads(path.read_text()), definitions)
            (scratch / path.name).write_text(json.dumps(schema, separators=(",", ":")))

    return ensure_directory(f"kubernetes-schemas-{version}", make)


def inline_definitions(schema: Schema, definitions: dict[str, Schema]) -> Schema:
    """``schema`` with every definition it reaches copied into its ``$defs``.

    References to the shared file become local (``#/$defs/<name>``), as the shared
    definitions' references to each other already are.
    """
    result = _localise(copy.deepcopy(schema))
    needed: dict[str, Schema] = {}
    pending = _references(result)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed[name] = _localise(copy.deepcopy(definitions[name]))
        pending |= _references(needed[name]) - needed.keys()
    if needed:
        result["$defs"] = dict(sorted(needed.items()))
    return result


def _localise(node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (match := _SHARED_REF.match(ref)):
            node["$ref"] = f"#/$defs/{match.group(1)}"
        for value in node.values():
            _localise(value)
    elif isinstance(node, list):
        for value in node:
            _localise(value)
    return node


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref.removeprefix("#/$defs/"))
        for value in node.values():
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def crd_schemas(crd: Schema) -> dict[str, Schema]:
    """kubeconform schemas of one CRD, by path relative to the CRD schema directory.

    Raises:
        ValueError: ``crd`` is not a CustomResourceDefinition with schemas.
    """
    if crd.get("kind") != "CustomResourceDefinition":
        raise ValueError(f"not a CustomResourceDefinition: {crd.get('kind')!r}")
    spec = crd["spec"]
    kind = spec["names"]["kind"].lower()
    schemas: dict[str, Schema] = {}
    for version in spec["versions"]:
        openapi = version.get("schema", {}).get("openAPIV3Schema")
        if openapi is None:
            raise ValueError(f"CRD {crd['metadata']['name']} {version['name']} has no schema")
        schemas[f"{spec['group']}/{kind}_{version['name']}.json"] = strict(openapi)
    return schemas


def strict(openapi: Schema) -> Schema:
    """A JSON Schema from a CRD's OpenAPI v3 schema, refusing unknown fields."""
    return _convert(copy.deepcopy(openapi))


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(value) for value in node]
    if not isinstance(node, dict):
        return node
    for key, value in list(node.items()):
        # Children first; "properties" maps names to schemas, so convert each value.
        if key in ("properties", "patternProperties"):
            node[key] = {name: _convert(child) for name, child in value.items()}
        elif key not in _VALUES:
            node[key] = _convert(value)
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    if ("properties" in node and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        node["additionalProperties"] = False
    return node
