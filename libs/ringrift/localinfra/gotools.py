"""Go programs the deploy checks need, built from their modules and cached per version.

kustomize and kubeconform (rendering and schema-checking the Kubernetes manifests),
versitygw (a real S3-compatible server for the object-store tests) and kube-apiserver
(a real API server for server-side dry runs) are built with the machine's ``go`` from
the Go module proxy it is configured with. Go's own module and build caches are kept
under the project's cache too (``go/mod``, ``go/build``), so one cached folder holds
everything a fresh machine would otherwise fetch and compile again.

kube-apiserver cannot be ``go install``-ed: ``k8s.io/kubernetes`` replaces its 30-odd
staging modules with ``./staging/...`` directories, which Go refuses outside the
module itself. :func:`kubernetes_command` writes a small wrapper module that requires
``k8s.io/kubernetes`` and points each staging module at its published ``v0.X.Y``
release instead, then builds ``cmd/kube-apiserver`` (or ``cmd/kubectl``) from it (about
12 minutes of compilation on two cores the first time).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ringrift.errors import ConfigurationError
from ringrift.localinfra.toolcache import cache_root, ensure_directory, run


@dataclass(frozen=True)
class GoTool:
    """A ``main`` package to ``go install`` at a pinned version."""

    name: str
    package: str
    version: str


KUSTOMIZE = GoTool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.2")
"""v5.8.3 needs Go 1.27."""
KUBECONFORM = GoTool("kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0")
VERSITYGW = GoTool("versitygw", "github.com/versity/versitygw/cmd/versitygw", "v1.8.0")
"""An S3 gateway over a POSIX directory (Apache-2.0). SeaweedFS was the other candidate; its
go.mod has a replace directive (so no ``go install``) and ten times the dependencies."""
KUBERNETES_VERSION = "v1.37.2"


def go_env() -> dict[str, str]:
    """The environment for ``go``: the project's caches, no automatic toolchain download.

    Raises:
        ConfigurationError: ``go`` is not on PATH.
    """
    if shutil.which("go") is None:
        raise ConfigurationError("the deploy checks build their tools with Go 1.25 or newer; "
                                 "install Go (https://go.dev/doc/install) and put `go` on PATH")
    root = cache_root() / "go"
    flags = os.environ.get("GOFLAGS", "")
    return dict(os.environ, GOMODCACHE=str(root / "mod"), GOCACHE=str(root / "build"),
                GOPATH=str(root / "path"), GOFLAGS=f"{flags} -modcacherw".strip(),
                GOTOOLCHAIN="local", CGO_ENABLED="0")


def install(tool: GoTool) -> Path:
    """The path of ``tool``'s binary, built with ``go install`` on first use."""
    def make(scratch: Path) -> None:
        env = dict(go_env(), GOBIN=str(scratch))
        run(["go", "install", f"{tool.package}@{tool.version}"], what=f"building {tool.name}",
            env=env)
    return ensure_directory(f"{tool.name}-{tool.version}", make) / tool.name


def download_module(module: str, version: str) -> Path:
    """The unpacked source of a Go module (``go mod download``), e.g. for files it ships."""
    output = run(["go", "mod", "download", "-json", f"{module}@{version}"],
                 what=f"downloading {module}@{version}", env=go_env(), cwd=cache_root())
    return Path(json.loads(output)["Dir"])


def kubernetes_command(name: str, version: str = KUBERNETES_VERSION) -> Path:
    """The path of ``k8s.io/kubernetes/cmd/<name>`` (``kube-apiserver``, ``kubectl``) of
    ``version``, built on first use through the wrapper module."""
    def make(scratch: Path) -> None:
        env = go_env()
        work = scratch / "module"
        work.mkdir()
        upstream = _module_file("k8s.io/kubernetes", version, env)
        (work / "go.mod").write_text(wrapper_go_mod(upstream, version))
        package = f"k8s.io/kubernetes/cmd/{name}"
        run(["go", "get", f"{package}@{version}"], what=f"resolving {name}", env=env, cwd=work)
        major, minor = version.lstrip("v").split(".")[:2]
        ldflags = " ".join(f"-X k8s.io/component-base/version.{key}={value}" for key, value in (
            ("gitVersion", version), ("gitMajor", major), ("gitMinor", minor)))
        run(["go", "build", "-trimpath", "-ldflags", f"-s -w {ldflags}", "-o",
             str(scratch / name), package], what=f"building {name}", env=env, cwd=work)
        shutil.rmtree(work)
    return ensure_directory(f"{name}-{version}", make) / name


def _module_file(module: str, version: str, env: dict[str, str]) -> str:
    output = run(["go", "mod", "download", "-json", f"{module}@{version}"],
                 what=f"downloading {module}@{version}", env=env, cwd=cache_root())
    return Path(json.loads(output)["GoMod"]).read_text()


_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+\S+)?\s+=>\s+(\S+)(?:\s+(\S+))?\s*$")


def wrapper_go_mod(upstream_go_mod: str, version: str) -> str:
    """A go.mod requiring ``k8s.io/kubernetes@version`` with its replaces made installable.

    Each ``k8s.io/X => ./staging/src/k8s.io/X`` becomes ``k8s.io/X => k8s.io/X v0.<minor>.<patch>``
    (the staging modules are published with the same minor and patch); any other replace of
    the upstream module is kept as it is, since Go ignores a dependency's replaces.
    """
    staging_version = "v0." + version.lstrip("v").split(".", 1)[1]
    replaces: list[str] = []
    for line in _replace_lines(upstream_go_mod):
        match = _REPLACE.match(line)
        if not match:
            continue
        old, new, new_version = match.groups()
        if new.startswith("./staging/"):
            replaces.append(f"\t{old} => {old} {staging_version}")
        elif not new.startswith("."):
            replaces.append(f"\t{old} => {new} {new_version}")
    go_line = re.search(r"^go (\S+)$", upstream_go_mod, re.MULTILINE)
    return (f"module ringrift.local/kube-apiserver\n\ngo {go_line.group(1) if go_line else '1.25'}"
            f"\n\nrequire k8s.io/kubernetes {version}\n\nreplace (\n" + "\n".join(replaces)
            + "\n)\n")


def _replace_lines(go_mod: str) -> list[str]:
    lines: list[str] = []
    in_block = False
    for line in go_mod.splitlines():
        stripped = line.split("//", 1)[0].strip()
        if stripped == "replace (":
            in_block = True
        elif in_block and stripped == ")":
            in_block = False
        elif in_block or stripped.startswith("replace "):
            lines.append(stripped)
    return lines
