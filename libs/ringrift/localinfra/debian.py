"""Programs from Debian's packages, installed with apt-get the first time they are needed.

etcd (for a local kube-apiserver) and Prometheus with promtool come from Debian's
``etcd-server`` and ``prometheus`` packages. Nothing is started by installing them on
these machines (no init system); the launchers run them in the foreground on loopback.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from ringrift.errors import RingriftError

log = logging.getLogger(__name__)

# Another session may be installing at the same time: wait for dpkg's lock, not fail.
_APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q"]


class PackageInstallError(RingriftError):
    """A program's Debian package is missing and could not be installed."""


def ensure_program(program: str, package: str) -> Path:
    """The path of ``program``, installing Debian's ``package`` first when it is missing.

    Args:
        program: the executable's name, looked up on PATH, then in /usr/bin and /usr/sbin.
        package: the Debian package that provides it.

    Raises:
        PackageInstallError: not root, no apt-get, or the install failed; the message
            names the command to run.
    """
    found = _find(program)
    if found is not None:
        return found
    command = f"apt-get update && apt-get install -y --no-install-recommends {package}"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PackageInstallError(f"{program} not found; install it as root with `{command}`")
    log.info("installing %s: %s", program, command)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in ([*_APT, "update"], [*_APT, "install", "-y", "--no-install-recommends", package]):
        result = subprocess.run(step, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, check=False)
        if result.returncode != 0:
            raise PackageInstallError(f"`{' '.join(step)}` failed:\n{result.stdout[-3000:]}")
    found = _find(program)
    if found is None:
        raise PackageInstallError(f"installed {package}, but found no {program} program")
    return found


def _find(program: str) -> Path | None:
    on_path = shutil.which(program)
    if on_path:
        return Path(on_path)
    for directory in ("/usr/bin", "/usr/sbin"):
        candidate = Path(directory) / program
        if os.access(candidate, os.X_OK):
            return candidate
    return None
