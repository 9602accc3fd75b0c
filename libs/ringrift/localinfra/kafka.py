"""Run a real single-node Apache Kafka broker (KRaft, loopback) without Docker.

The broker is assembled from its Maven Central jars (``deploy/local/kafka/pom.xml``),
copied once into a cache outside the clone (``$RINGRIFT_CACHE/kafka-4.1.1/libs``,
``~/.cache/ringrift`` by default) and reused. A data directory holds the broker's
``server.properties``, its KRaft log and its own log file; it is formatted once with a
cluster id that is kept beside it, so a persistent run survives restarts.

Two ways in:

* :class:`LocalKafka`, a context manager the test fixtures and benchmarks use: a fresh
  data dir and free ports, started on enter, stopped on exit.
* ``ringrift infra kafka start|stop|status`` for local runs: data and pid under
  ``var/kafka/`` in the clone, port 9092 by default, the bootstrap address printed.

Topic auto-creation is off: the pipeline's topics are provisioned from the topic
registry (``ringrift events topics create``), with their partitions and retention.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from ringrift.errors import ConfigurationError
from ringrift.localinfra.process import (
    Launcher,
    ServerProcess,
    ServerStartError,
    free_port,
    port_open,
)

KAFKA_VERSION = "4.1.1"
REPO_ROOT = Path(__file__).resolve().parents[3]
POM = REPO_ROOT / "deploy" / "local" / "kafka" / "pom.xml"
# Maven 3.8's default dependency plugin is too old for copy-dependencies' options.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# The distribution's JVM flags, with a smaller heap: a test broker holds little.
JVM_FLAGS = (
    "-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
)
DEFAULT_PORT = 9092
LOG_TAIL_LINES = 60


class KafkaStartError(ServerStartError):
    """The broker did not start; the message carries the tail of its log."""


def cache_dir() -> Path:
    """Where the broker's jars are kept: shared by every clone on the machine."""
    root = Path(os.environ.get("RINGRIFT_CACHE", Path.home() / ".cache" / "ringrift"))
    return root / f"kafka-{KAFKA_VERSION}"


def ensure_jars(cache: Path | None = None) -> Path:
    """The directory of the broker's runtime jars, fetched with Maven if missing.

    The jars are copied into a temporary directory and renamed into place, so an
    interrupted download never leaves a half-filled classpath behind.

    Raises:
        ConfigurationError: Maven is not installed.
        KafkaStartError: Maven failed (its output is in the message).
    """
    libs = (cache or cache_dir()) / "libs"
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ConfigurationError(
            "Maven (mvn) is needed to fetch the Kafka broker's jars; install it "
            "(apt-get install maven) or set KAFKA_BOOTSTRAP_SERVERS to an existing broker"
        )
    libs.parent.mkdir(parents=True, exist_ok=True)
    partial = libs.parent / f"libs.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [mvn, "-B", "-q", "-f", str(POM), f"{DEPENDENCY_PLUGIN}:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={partial}"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0 or not any(partial.glob("kafka_2.13-*.jar")):
        shutil.rmtree(partial, ignore_errors=True)
        raise KafkaStartError(
            f"could not fetch Kafka {KAFKA_VERSION} from Maven Central "
            f"(mvn exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    try:
        partial.rename(libs)
    except OSError:  # another process won the race; its copy is as good as ours
        shutil.rmtree(partial, ignore_errors=True)
    return libs


def server_properties(data_dir: Path, broker_port: int, controller_port: int) -> str:
    """``server.properties`` for one combined broker+controller node on loopback."""
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{broker_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir / "kraft-logs"}
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=1048577
num.network.threads=2
num.io.threads=2
background.threads=2
"""


LOG4J2_PROPERTIES = """\
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


def new_cluster_id() -> str:
    """16 random bytes, base64url without padding, never starting with ``-``."""
    while True:
        cid = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


class LocalKafka(Launcher):
    """A single-node broker in ``data_dir``; a context manager that starts and stops it.

    Args:
        data_dir: holds the config, the KRaft log and ``broker.log``. Reusing a dir keeps
            the broker's topics and offsets (its cluster id is kept in ``cluster.id``).
        broker_port: the PLAINTEXT port; a free one when ``None``.
        controller_port: the KRaft controller port; a free one when ``None``.
        start_timeout: seconds to wait for the broker to accept connections.
        detach: start the broker in its own session so it outlives this process
            (``ringrift infra kafka start``).
    """

    def __init__(self, data_dir: Path, *, broker_port: int | None = None,
                 controller_port: int | None = None, start_timeout: float = 180.0,
                 detach: bool = False) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.broker_port = broker_port or free_port()
        self.controller_port = controller_port or free_port()
        self.start_timeout = start_timeout
        self.detach = detach
        self.server = ServerProcess("the Kafka broker", self.log_path, LOG_TAIL_LINES)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The broker's process while it runs (started by this object)."""
        return self.server.process

    def start(self) -> str:
        """Fetch the jars if needed, format the data dir once, start, wait until ready.

        Returns:
            The bootstrap address, ``127.0.0.1:<port>``.

        Raises:
            KafkaStartError: the broker exited or did not open its port in time; the
                message holds the tail of its log.
        """
        if port_open(self.broker_port):
            raise KafkaStartError(
                f"port {self.broker_port} is already in use; stop what listens there "
                "(`ringrift infra kafka stop`) or choose another with --port"
            )
        classpath = str(ensure_jars() / "*")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(server_properties(self.data_dir, self.broker_port,
                                            self.controller_port))
        log4j = self.data_dir / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES)
        java = [shutil.which("java") or "java", *JVM_FLAGS,
                f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath]
        self._format(java, config)
        # The PLAINTEXT socket opens only once the broker is ready to serve.
        try:
            self.server.start([*java, "kafka.Kafka", str(config)], port=self.broker_port,
                              timeout=self.start_timeout, detach=self.detach)
        except ServerStartError as error:
            raise KafkaStartError(str(error)) from None
        return self.bootstrap_servers

    def _format(self, java: list[str], config: Path) -> None:
        """Format the KRaft storage once; the cluster id stays with the data dir."""
        if (self.data_dir / "kraft-logs" / "meta.properties").exists():
            return
        id_file = self.data_dir / "cluster.id"
        if not id_file.exists():
            id_file.write_text(new_cluster_id())
        result = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", "--cluster-id",
             id_file.read_text().strip(), "--config", str(config)],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise KafkaStartError(f"formatting {self.data_dir} failed:\n"
                                  f"{result.stdout[-3000:]}{result.stderr[-3000:]}")

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it takes longer than ``timeout``."""
        self.server.stop(timeout)

    def restart(self) -> None:
        """Stop and start again on the same ports and data (for broker-restart tests)."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return self.server.log_tail(lines)


# ---- `ringrift infra kafka start|stop|status`: a persistent broker under var/kafka/ ----

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status"],
                        help="start the broker in the background, stop it, or show its state")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"broker port on 127.0.0.1 (default: {DEFAULT_PORT}); the "
                        "controller uses the next one")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "var" / "kafka",
                        help="data, log and pid file (default: var/kafka in the clone)")


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir
    pid = running_broker_pid(data_dir)
    if args.action == "status":
        if pid is None:
            print("kafka: not running")
            return 3
        print(f"kafka: running (pid {pid}) at 127.0.0.1:{_port_of(data_dir)}")
        return 0
    if args.action == "stop":
        if pid is None:
            print("kafka: not running")
            return 0
        stop_persistent_broker(data_dir)
        print(f"kafka: stopped (pid {pid})")
        return 0
    if pid is not None:
        print(f"kafka: already running (pid {pid}) at 127.0.0.1:{_port_of(data_dir)}")
        return 0
    print(f"kafka: starting Kafka {KAFKA_VERSION} in {data_dir} ...", flush=True)
    bootstrap, pid = start_persistent_broker(data_dir, args.port)
    print(f"kafka: ready at {bootstrap} (pid {pid}, log {data_dir / 'broker.log'})")
    print(f"export KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
    return 0


def running_broker_pid(data_dir: Path) -> int | None:
    """The pid of the persistent broker of ``data_dir`` if it runs, else None."""
    return _running_pid(data_dir / "broker.pid")


def running_broker(data_dir: Path) -> str | None:
    """The bootstrap address of the persistent broker of ``data_dir`` if it runs."""
    if running_broker_pid(data_dir) is None:
        return None
    return f"127.0.0.1:{_port_of(data_dir)}"


def start_persistent_broker(data_dir: Path, port: int = DEFAULT_PORT) -> tuple[str, int]:
    """Start the broker of ``data_dir`` in its own session (it outlives this process and
    gets no Ctrl-C of the terminal), with its pid in ``broker.pid``.

    Returns:
        The bootstrap address and the broker's pid.

    Raises:
        KafkaStartError: the port is taken, or the broker did not start.
    """
    broker = LocalKafka(data_dir, broker_port=port, controller_port=port + 1, detach=True)
    bootstrap = broker.start()
    assert broker.process is not None
    (data_dir / "broker.pid").write_text(str(broker.process.pid))
    return bootstrap, broker.process.pid


def stop_persistent_broker(data_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the broker of ``data_dir`` (SIGTERM, SIGKILL after ``timeout``); its data stays.

    Returns:
        Whether a broker was running.
    """
    pid = running_broker_pid(data_dir)
    if pid is None:
        return False
    _terminate(pid, timeout)
    (data_dir / "broker.pid").unlink(missing_ok=True)
    return True


def _running_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    except PermissionError:  # alive, owned by someone else
        return pid
    return pid


def _port_of(data_dir: Path) -> str:
    config = data_dir / "server.properties"
    for line in config.read_text().splitlines() if config.exists() else ():
        if line.startswith("advertised.listeners="):
            return line.rsplit(":", 1)[1]
    return "?"


def _terminate(pid: int, timeout: float = 60.0) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL after ``timeout`` seconds."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child (started by this process), or it lingers as a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
