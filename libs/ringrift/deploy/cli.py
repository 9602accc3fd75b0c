"""``ringrift deploy``: generate the deploy files, install the checking tools, check manifests.

* ``generate [--check]``: rewrite the files generated from the registries (KafkaTopics,
  workloads, migration Jobs, ScaledObjects, the PrometheusRule); ``--check`` changes
  nothing and exits 1 naming the stale files (as the tests do).
* ``tools``: make everything the checks use, once per machine (cached under
  ``~/.cache/ringrift/tools``): kustomize, kubeconform, Kubernetes and CRD schemas,
  kube-apiserver, etcd, promtool, the Grafana dashboard and Compose schemas, the S3
  test server.
  A fresh machine spends most of a quarter of an hour here, on kube-apiserver.
* ``check [--overlay NAME] [--server]``: render each overlay, schema-check every object,
  and with ``--server`` dry-run it against a local kube-apiserver with the CRDs installed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

OVERLAY_NAMES = ("local", "gpu-cluster")
DESCRIPTION = """\
generate [--check]   rewrite the files generated from the registries (KafkaTopics, workloads,
                     migration Jobs, ScaledObjects, the PrometheusRule); --check changes
                     nothing and exits 1 naming the stale files
tools                make every tool the checks use, once per machine (cached under
                     ~/.cache/ringrift/tools); about 15 minutes the first time, mostly
                     compiling kube-apiserver
check [--server]     render each overlay of deploy/k8s, schema-check every object, and with
                     --server dry-run it on a local kube-apiserver with the CRDs installed
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy", help="generate deploy files, install the checking tools, check manifests",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="deploy_action", metavar="ACTION", required=True)
    generate = actions.add_parser("generate", help="rewrite the generated deploy files")
    generate.add_argument("--check", action="store_true",
                          help="change nothing; exit 1 if a generated file is stale")
    actions.add_parser("tools", help="install or build every tool the checks use (cached)")
    check = actions.add_parser("check", help="render, schema-check and dry-run the overlays")
    check.add_argument("--overlay", choices=OVERLAY_NAMES, action="append",
                       help="check this overlay only (repeatable; default: all)")
    check.add_argument("--server", action="store_true",
                       help="also dry-run against a local kube-apiserver (etcd + "
                       "kube-apiserver on loopback, started and stopped by the command)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.deploy_action == "generate":
        return _generate(args.check)
    if args.deploy_action == "tools":
        _tools()
        return 0
    return _check(args.overlay or list(OVERLAY_NAMES), args.server)


def _generate(check_only: bool) -> int:
    from ringrift.deploy import generate

    stale = generate.stale_files() if check_only else generate.write_all()
    for path in stale:
        print(f"{'stale' if check_only else 'wrote'}: {path.relative_to(generate.REPO_ROOT)}")
    if check_only and stale:
        print("run `ringrift deploy generate` and commit the result", file=sys.stderr)
        return 1
    if not stale:
        print("generated files are up to date")
    return 0


def _timed(what: str, make: Callable[[], object]) -> None:
    print(f"{what} ...", end=" ", flush=True)
    started = time.monotonic()
    result = make()
    print(f"{result} ({time.monotonic() - started:.0f} s)", flush=True)


def _tools() -> None:
    from ringrift.deploy.compose import compose_schema
    from ringrift.deploy.crds import crd_bundle
    from ringrift.deploy.grafana import dashboard_schema
    from ringrift.deploy.schemas import kubernetes_schemas
    from ringrift.localinfra import gotools
    from ringrift.localinfra.debian import ensure_program
    from ringrift.localinfra.kubeapi import kubectl_binary

    for tool in (gotools.KUSTOMIZE, gotools.KUBECONFORM, gotools.VERSITYGW):
        _timed(tool.name, lambda tool=tool: gotools.install(tool))
    _timed("Kubernetes schemas", kubernetes_schemas)
    _timed("CRDs (Strimzi, Prometheus Operator, KEDA)", crd_bundle)
    _timed("etcd", lambda: ensure_program("etcd", "etcd-server"))
    _timed("promtool", lambda: ensure_program("promtool", "prometheus"))
    _timed("Grafana dashboard schema", dashboard_schema)
    _timed("Compose Specification schema", compose_schema)
    _timed("kubectl", kubectl_binary)
    _timed("kube-apiserver (about 12 minutes on two cores the first time)",
           lambda: gotools.kubernetes_command("kube-apiserver"))


def _check(overlays: list[str], server: bool) -> int:
    from ringrift.deploy import validate
    from ringrift.localinfra.kubeapi import LocalKubeAPI

    tools = validate.Toolchain.ensure()
    rendered = {name: validate.render(tools, validate.overlay_dir(name)) for name in overlays}
    failures = 0
    for name, text in rendered.items():
        errors = validate.schema_errors(tools, text)
        failures += len(errors)
        print(f"{name}: {len(validate.objects(text))} objects, schema check: "
              f"{'ok' if not errors else f'{len(errors)} errors'}")
        for error in errors:
            print(f"  {error}")
    if server:
        with tempfile.TemporaryDirectory(prefix="ringrift-kubeapi-") as data, \
                LocalKubeAPI(Path(data)) as api:
            api.install_crds(tools.crd_files)
            for name, text in rendered.items():
                errors = validate.dry_run_errors(api, text)
                failures += len(errors)
                print(f"{name}: server-side dry run: {'ok' if not errors else 'refused'}")
                for error in errors:
                    print(f"  {error}")
    return 1 if failures else 0
