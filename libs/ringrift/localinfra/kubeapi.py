"""A real Kubernetes API server on loopback (etcd + kube-apiserver), for server-side dry runs.

No kubelet, scheduler or controllers: only the API server, which is what validates an
object in full (quantities, selectors against labels, probes with a handler, the CEL rules
of CRDs, admission). etcd comes from Debian's ``etcd-server`` package; kube-apiserver is
built from its Go module (:func:`ringrift.localinfra.gotools.kubernetes_command`). Both
listen on free loopback ports, with data in a fresh directory; the caller is
``system:masters`` through a static token. :meth:`LocalKubeAPI.kubectl` runs ``kubectl``
against it (the machine's own, or one built from the same module when none is on PATH).
"""

from __future__ import annotations

import secrets
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ringrift.localinfra import gotools
from ringrift.localinfra.debian import ensure_program
from ringrift.localinfra.process import Launcher, ServerProcess, ServerStartError, free_port
from ringrift.localinfra.toolcache import ToolBuildError, run


class LocalKubeAPI(Launcher):
    """etcd and kube-apiserver in ``data_dir``; a context manager.

    Args:
        data_dir: etcd's data, the server's keys, token file, kubeconfig and logs.
        start_timeout: seconds to wait for each server to be ready.
    """

    def __init__(self, data_dir: Path, *, start_timeout: float = 120.0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.start_timeout = start_timeout
        self.etcd_port, self.etcd_peer_port, self.port = free_port(), free_port(), free_port()
        self.token = secrets.token_hex(16)
        self.etcd = ServerProcess("etcd", self.data_dir / "etcd.log")
        self.apiserver = ServerProcess("kube-apiserver", self.data_dir / "kube-apiserver.log")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def start(self) -> None:
        """Install or build what is missing, start etcd and kube-apiserver, wait for /readyz.

        Raises:
            ServerStartError: a server exited or was not ready in time (its log's tail).
            ToolBuildError: a program could not be built or installed.
        """
        apiserver = gotools.kubernetes_command("kube-apiserver")
        etcd = ensure_program("etcd", "etcd-server")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        client = f"http://127.0.0.1:{self.etcd_port}"
        self.etcd.start([str(etcd), "--name", "local", "--data-dir", str(self.data_dir / "etcd"),
                         "--listen-client-urls", client, "--advertise-client-urls", client,
                         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                         "--initial-cluster", f"local={peer}"],
                        port=self.etcd_port, timeout=self.start_timeout)
        key = self.data_dir / "service-account.key"
        run(["openssl", "genrsa", "-out", str(key), "2048"], what="making a service-account key")
        tokens = self.data_dir / "tokens.csv"
        tokens.write_text(f'{self.token},admin,admin,"system:masters"\n')
        self.apiserver.start(
            [str(apiserver), "--etcd-servers", client, "--bind-address", "127.0.0.1",
             "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
             "--cert-dir", str(self.data_dir / "certs"), "--token-auth-file", str(tokens),
             "--authorization-mode", "RBAC", "--service-account-issuer",
             "https://kubernetes.default.svc", "--service-account-key-file", str(key),
             "--service-account-signing-key-file", str(key),
             "--service-cluster-ip-range", "10.96.0.0/16",
             # No node runs here, so there is no endpoint to reconcile for the API's Service.
             "--endpoint-reconciler-type", "none"],
            port=self.port, timeout=self.start_timeout)
        self._wait_until_ready()
        self.kubeconfig.write_text(self._kubeconfig_text())

    def stop(self) -> None:
        self.apiserver.stop()
        self.etcd.stop()

    def kubectl(self, args: Sequence[str], *, input_text: str | None = None,
                timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """``kubectl --kubeconfig <ours> ARGS``; the result, whatever its exit status."""
        return subprocess.run([str(kubectl_binary()), "--kubeconfig", str(self.kubeconfig),
                               *args], input=input_text, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def install_crds(self, paths: Sequence[Path], timeout: float = 120.0) -> None:
        """Apply CRDs (server-side: some are too big for the last-applied annotation) and
        wait until each is Established, so objects of their kinds can be sent.

        Raises:
            ToolBuildError: the server refused a CRD or did not establish it in time.
        """
        for path in paths:
            result = self.kubectl(["apply", "--server-side", "-f", str(path)])
            if result.returncode != 0:
                raise ToolBuildError(f"installing {path.name} failed: {result.stderr.strip()}")
        result = self.kubectl(["wait", "--for", "condition=Established", "crd", "--all",
                               f"--timeout={timeout:.0f}s"])
        if result.returncode != 0:
            raise ToolBuildError(f"CRDs not established: {result.stderr.strip()}")

    def _wait_until_ready(self) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the server's own self-signed certificate
        request = urllib.request.Request(f"{self.url}/readyz",
                                         headers={"Authorization": f"Bearer {self.token}"})
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5, context=context) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if not self.apiserver.running():
                raise ServerStartError(f"kube-apiserver exited:\n{self.apiserver.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerStartError(f"kube-apiserver not ready within "
                                       f"{self.start_timeout:.0f} s:\n{self.apiserver.log_tail()}")
            time.sleep(0.5)

    def _kubeconfig_text(self) -> str:
        return f"""\
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: {self.url}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: {self.token}
contexts:
- name: local
  context: {{cluster: local, user: admin}}
current-context: local
"""


def kubectl_binary() -> Path:
    """The machine's kubectl, or one built from ``k8s.io/kubernetes`` when none is on PATH."""
    found = shutil.which("kubectl")
    return Path(found) if found else gotools.kubernetes_command("kubectl")
