"""Check the Kubernetes manifests: render each overlay, schema-check every object, dry-run it.

Three levels, each catching more:

1. :func:`render`: ``kustomize build`` of an overlay (a missing file, a patch that
   matches nothing, a bad component fail here).
2. :func:`schema_errors`: kubeconform in strict mode against Kubernetes' schemas and the
   schemas of the CRDs we use (unknown fields, wrong types, wrong apiVersion; a kind
   with no schema is an error, never skipped).
3. :func:`dry_run_errors`: ``kubectl apply --dry-run=server`` against a real
   kube-apiserver with the CRDs installed (:class:`ringrift.localinfra.kubeapi.LocalKubeAPI`):
   invalid quantities, a GPU request that differs from its limit, a selector that does
   not match its template, a probe without a handler, the CRDs' CEL rules.

None of them proves scheduling, images or operator reconciliation.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ringrift.deploy.crds import crd_bundle
from ringrift.deploy.schemas import CRD_LOCATION, KUBERNETES_LOCATION, kubernetes_schemas
from ringrift.localinfra import gotools
from ringrift.localinfra.kubeapi import LocalKubeAPI
from ringrift.localinfra.toolcache import ToolBuildError

REPO_ROOT = Path(__file__).resolve().parents[3]
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
OVERLAYS = ("local", "gpu-cluster")


@dataclass(frozen=True)
class Toolchain:
    """Paths of everything the checks use, made or fetched once per machine."""

    kustomize: Path
    kubeconform: Path
    kubernetes_schemas: Path
    crds: Path

    @classmethod
    def ensure(cls) -> Toolchain:
        return cls(gotools.install(gotools.KUSTOMIZE), gotools.install(gotools.KUBECONFORM),
                   kubernetes_schemas(), crd_bundle())

    @property
    def crd_files(self) -> list[Path]:
        return sorted((self.crds / "crds").glob("*.yaml"))


def overlay_dir(name: str) -> Path:
    return K8S_DIR / "overlays" / name


def render(tools: Toolchain, directory: Path) -> str:
    """The YAML ``kustomize build directory`` prints.

    Raises:
        ToolBuildError: kustomize refused the directory (its message).
    """
    result = subprocess.run([str(tools.kustomize), "build", str(directory)], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise ToolBuildError(f"kustomize build {directory} failed: {result.stderr.strip()}")
    return result.stdout


def objects(rendered: str) -> list[dict[str, Any]]:
    """The objects of a rendered multi-document YAML stream."""
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def schema_errors(tools: Toolchain, rendered: str) -> list[str]:
    """kubeconform's complaints about ``rendered``, one line per object; [] when all pass."""
    result = subprocess.run(
        [str(tools.kubeconform), "-strict", "-output", "json", "-schema-location",
         f"{tools.kubernetes_schemas}/{KUBERNETES_LOCATION}", "-schema-location",
         f"{tools.crds}/schemas/{CRD_LOCATION}", "-"],
        input=rendered, capture_output=True, text=True, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise ToolBuildError(f"kubeconform failed: {result.stderr.strip() or result.stdout}"
                             ) from None
    errors = [f"{item.get('kind')}/{item.get('name')}: {item.get('status')}: {item.get('msg')}"
              for item in report.get("resources", [])
              if item.get("status") not in ("statusValid", "statusSkipped")]
    if result.returncode != 0 and not errors:
        errors.append(f"kubeconform exit {result.returncode}: {result.stderr.strip()}")
    return errors


def dry_run_errors(api: LocalKubeAPI, rendered: str) -> list[str]:
    """What a real API server refuses in ``rendered`` (``--dry-run=server``); [] when none.

    The namespaces the objects live in are created for real first: a dry run cannot
    create a namespace and the objects in it in one go.
    """
    namespaces = sorted({obj["metadata"]["namespace"] for obj in objects(rendered)
                         if obj.get("metadata", {}).get("namespace")})
    for namespace in namespaces:
        existing = api.kubectl(["get", "namespace", namespace])
        if existing.returncode != 0:
            created = api.kubectl(["create", "namespace", namespace])
            if created.returncode != 0:
                return [f"namespace {namespace}: {created.stderr.strip()}"]
    result = api.kubectl(["apply", "--dry-run=server", "--server-side", "-f", "-"],
                         input_text=rendered)
    if result.returncode == 0:
        return []
    return [line for line in result.stderr.splitlines() if line.strip()] or [
        f"kubectl exit {result.returncode}"]
