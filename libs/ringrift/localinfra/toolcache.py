"""Where built and downloaded tools are kept, and how a tool is put there safely.

Tools that are not Python packages (Go binaries, a JDK's output, converted schemas)
are made once per machine and kept under ``$RINGRIFT_CACHE`` (``~/.cache/ringrift``
by default, shared by every clone, like the Python environment). Each tool lives in
a directory named after its version, filled in a scratch directory and renamed into
place, so an interrupted build never leaves something that looks finished; a lock
per tool keeps two sessions from building the same thing at once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ringrift.errors import RingriftError

OUTPUT_TAIL_CHARS = 4000


class ToolBuildError(RingriftError):
    """Making a tool failed; the message names the command and carries its output's tail."""


def cache_root() -> Path:
    """``$RINGRIFT_CACHE``, or ``~/.cache/ringrift``."""
    return Path(os.environ.get("RINGRIFT_CACHE") or Path.home() / ".cache" / "ringrift")


def tools_dir() -> Path:
    return cache_root() / "tools"


@contextmanager
def locked(name: str) -> Iterator[None]:
    """Hold the machine-wide lock for making tool ``name``."""
    directory = tools_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / f".{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_directory(name: str, make: Callable[[Path], None]) -> Path:
    """``tools/<name>``, made by ``make(scratch_dir)`` the first time it is asked for.

    Args:
        name: the directory's name under the tools cache; include the version.
        make: fills the empty scratch directory it is given; raise to abandon it.

    Returns:
        The finished directory.
    """
    final = tools_dir() / name
    if final.is_dir():
        return final
    with locked(name):
        if final.is_dir():  # another session made it while we waited
            return final
        scratch = Path(tempfile.mkdtemp(dir=tools_dir(), prefix=f".{name}."))
        try:
            make(scratch)
            scratch.chmod(0o755)  # mkdtemp made it private; tools are for every user
            scratch.rename(final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return final


def run(command: Sequence[str], *, what: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> str:
    """Run a build step, niced (the machine is shared); its stdout on success.

    Raises:
        ToolBuildError: the command failed or is missing; names ``what`` and the command.
    """
    niced = ["nice", "-n", "10", *command] if shutil.which("nice") else list(command)
    try:
        result = subprocess.run(niced, env=env, cwd=cwd, capture_output=True, text=True,
                                check=False)
    except FileNotFoundError as error:
        raise ToolBuildError(f"{what}: {error.filename} is not installed") from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-OUTPUT_TAIL_CHARS:]
        raise ToolBuildError(f"{what} failed (exit {result.returncode}): "
                             f"{' '.join(command)}\n{output}")
    return result.stdout
