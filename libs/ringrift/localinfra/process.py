"""A server run as a child process with its own log: start, wait until it listens, stop.

Every local launcher (the Kafka broker, and for the deploy checks the S3 server, etcd,
kube-apiserver, Prometheus) starts a program in the foreground on loopback, waits for its
port, and stops it with SIGTERM, then SIGKILL if it lingers; a failure to start carries
the tail of its log. Free loopback ports for them come from :func:`free_port`.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from ringrift.errors import RingriftError


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class ServerStartError(RingriftError):
    """A local server did not start; the message carries the tail of its log."""


class ServerProcess:
    """One child process writing to ``log_path``.

    Args:
        name: what the messages call it.
        log_path: its stdout and stderr (appended).
        tail_lines: lines of its log that a start failure shows.
    """

    def __init__(self, name: str, log_path: Path, tail_lines: int = 40) -> None:
        self.name = name
        self.log_path = log_path
        self.tail_lines = tail_lines
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, command: Sequence[str], *, port: int, timeout: float,
              env: dict[str, str] | None = None, detach: bool = False) -> None:
        """Start ``command`` and return once something listens on ``port``.

        Args:
            command: the program and its arguments.
            port: the port it opens once it serves.
            timeout: seconds to wait for that.
            env: its environment (default: this process's).
            detach: start it in its own session, so it outlives this process and gets no
                Ctrl-C of the terminal.

        Raises:
            ServerStartError: it exited, or the port did not open within ``timeout`` s.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env,
                                            start_new_session=detach)
        deadline = time.monotonic() + timeout
        while not port_open(port):
            if self.process.poll() is not None:
                raise ServerStartError(f"{self.name} exited with code {self.process.returncode}:"
                                       f"\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"{self.name} did not open port {port} within "
                                       f"{timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL if it takes longer than ``timeout`` seconds."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self, lines: int | None = None) -> str:
        lines = lines or self.tail_lines
        if not self.log_path.exists():
            return f"(no log at {self.log_path})"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Launcher:
    """Base of the launchers: ``with Launcher(...) as server`` starts it and stops it again."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
