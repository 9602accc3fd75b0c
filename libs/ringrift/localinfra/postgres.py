"""A private PostgreSQL server on loopback, for tests and one-machine runs.

``ringrift infra postgres start|stop|status|url``. When ``DATABASE_URL`` names a
PostgreSQL server, that server is used and nothing is started. Otherwise a
private cluster runs on 127.0.0.1:54329 (not the default port, so it never
collides with a system server), owned by the role ``ringrift`` (password
``ringrift``) with a database ``ringrift``. Its data directory, log and unix
socket live in one folder outside the clone, so every clone on the machine
shares it: ``~/.cache/ringrift/postgres``, or ``/var/lib/ringrift/postgres``
when run as root, because the server then runs as the ``postgres`` user (it
refuses to run as root), which cannot enter root's home. The server binaries
come from Debian's packages (``/usr/lib/postgresql/<version>/bin``) and are
installed with apt-get when missing and running as root.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import pwd
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ringrift.errors import ConfigurationError, RingriftError

log = logging.getLogger(__name__)

DEFAULT_PORT = 54329
ROLE = PASSWORD = DATABASE = "ringrift"
SERVER_USER = "postgres"  # the OS user the server runs as when we are root
INSTALL_COMMAND = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")


@dataclass(frozen=True)
class LocalPostgres:
    """The private cluster: where it lives and how to reach it."""

    base_dir: Path
    port: int = DEFAULT_PORT

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"


def default_cluster() -> LocalPostgres:
    """The cluster the environment asks for (``RINGRIFT_POSTGRES_DIR``, ``_PORT``)."""
    if os.environ.get("RINGRIFT_POSTGRES_DIR"):
        base = Path(os.environ["RINGRIFT_POSTGRES_DIR"])
    elif os.geteuid() == 0:
        base = Path("/var/lib/ringrift/postgres")
    else:
        cache = os.environ.get("RINGRIFT_CACHE") or Path.home() / ".cache" / "ringrift"
        base = Path(cache) / "postgres"
    port = int(os.environ.get("RINGRIFT_POSTGRES_PORT", DEFAULT_PORT))
    return LocalPostgres(base.absolute(), port)


def external_url() -> str | None:
    """``DATABASE_URL`` when it names a PostgreSQL server, else None.

    Raises:
        ConfigurationError: ``DATABASE_URL`` is set to something that is not PostgreSQL.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        raise ConfigurationError(
            f"DATABASE_URL={url!r} is not a PostgreSQL URL; unset it to use the local server"
        )
    return url


def is_reachable(url: str, timeout_s: int = 3) -> bool:
    """Whether a PostgreSQL server at ``url`` accepts a login."""
    import psycopg  # imported here so that `ringrift --help` stays fast

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, connect_timeout=timeout_s):
            return True
    except psycopg.Error:
        return False


def find_binaries(version: str | None = None) -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: of ``version``, or the newest."""
    candidates: list[Path] = []
    if os.environ.get("RINGRIFT_PG_BIN"):
        candidates.append(Path(os.environ["RINGRIFT_PG_BIN"]))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                      reverse=True)
    candidates += versions
    # A pg_ctl on PATH may be a symlink into a versioned directory (as /usr/local/bin is on
    # some machines); resolve it so that initdb and postgres come from the same version.
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in _REQUIRED_BINARIES) and (
                version is None or _major_version(directory) == version):
            return directory
    return None


def _major_version(binaries: Path) -> str | None:
    if binaries.parent.parent == Path("/usr/lib/postgresql"):
        return binaries.parent.name
    result = subprocess.run([str(binaries / "postgres"), "--version"], capture_output=True,
                            text=True, check=False)
    found = re.search(r"(\d+)(?:\.\d+)*", result.stdout)
    return found.group(1) if found else None


def install_binaries() -> Path:
    """Install PostgreSQL from Debian's packages; needs root.

    Raises:
        RingriftError: not root, no apt-get, or the install failed.
    """
    command = " ".join(INSTALL_COMMAND)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RingriftError(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and "
            f"PATH); install them as root with `apt-get update && {command}`, "
            "set RINGRIFT_PG_BIN to their directory, or set DATABASE_URL to a running server"
        )
    log.info("installing PostgreSQL: apt-get update && %s", command)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (["apt-get", "update"], INSTALL_COMMAND):
        result = subprocess.run(step, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, check=False)
        if result.returncode != 0:
            raise RingriftError(f"`{' '.join(step)}` failed:\n{result.stdout[-3000:]}")
    binaries = find_binaries()
    if binaries is None:
        raise RingriftError(f"`{command}` succeeded but no server binaries were found")
    return binaries


def ensure_server(cluster: LocalPostgres | None = None) -> tuple[str, bool]:
    """A reachable PostgreSQL server: ``DATABASE_URL``'s, or the private one, started.

    Returns:
        The URL to use, and whether this call started a server.

    Raises:
        RingriftError: the named server is unreachable, or ours failed to start (the
            message includes the end of the server log).
    """
    url = external_url()
    if url is not None:
        if not is_reachable(url):
            raise RingriftError(f"DATABASE_URL names a server that does not answer: {url}")
        return url, False
    return start_cluster(cluster or default_cluster())


def start_cluster(cluster: LocalPostgres) -> tuple[str, bool]:
    """Start ``cluster``'s server (making the cluster on first use); ``DATABASE_URL`` aside.

    Returns:
        Its URL, and whether this call started it.

    Raises:
        RingriftError: it failed to start (the message includes the end of its log).
    """
    with _locked(cluster):
        if _pg_ctl_status(cluster) == 0:
            if not is_reachable(cluster.url):
                raise RingriftError(f"the local server in {cluster.data_dir} runs but does not "
                                    f"answer at {cluster.url}; see {cluster.log_file}")
            return cluster.url, False
        if is_reachable(cluster.url, timeout_s=1):
            # Our port answers to our role: a ringrift server from another data directory
            # (another user's cache, say). It serves tests just as well, so use it.
            log.info("a server already answers at %s; using it", cluster.url)
            return cluster.url, False
        binaries = _binaries_for(cluster)
        if not (cluster.data_dir / "PG_VERSION").exists():
            _initdb(cluster, binaries)
        _write_settings(cluster)
        log.info("starting PostgreSQL on 127.0.0.1:%d (data in %s)", cluster.port, cluster.data_dir)
        result = _as_server_user(
            [str(binaries / "pg_ctl"), "start", "--wait", "--timeout=60", "--silent",
             "-D", str(cluster.data_dir), "-l", str(cluster.log_file)])
        if result.returncode != 0:
            raise RingriftError(f"PostgreSQL failed to start ({result.stdout.strip()}); "
                                f"server log {cluster.log_file}:\n{_tail(cluster.log_file)}")
        _create_database(cluster)
        return cluster.url, True


def _binaries_for(cluster: LocalPostgres) -> Path:
    """Binaries of the version that made the data directory; installed if there are none."""
    made_by = _data_version(cluster)
    binaries = find_binaries(made_by)
    if binaries is not None:
        return binaries
    if made_by is not None and find_binaries() is not None:
        raise RingriftError(
            f"{cluster.data_dir} was made by PostgreSQL {made_by}, whose server is not "
            f"installed; install postgresql-{made_by}, or remove {cluster.base_dir} to start "
            "afresh (its data is lost)"
        )
    return install_binaries()


def _data_version(cluster: LocalPostgres) -> str | None:
    try:
        return (cluster.data_dir / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return None


def stop_server(cluster: LocalPostgres | None = None) -> bool:
    """Stop the private server (fast shutdown: sessions end, data is flushed).

    Returns:
        Whether a server was running.
    """
    cluster = cluster or default_cluster()
    with _locked(cluster):
        if _pg_ctl_status(cluster) != 0:
            return False
        binaries = find_binaries(_data_version(cluster)) or find_binaries()
        if binaries is None:
            raise RingriftError("the local server runs but pg_ctl is gone; stop it by hand")
        result = _as_server_user([str(binaries / "pg_ctl"), "stop", "--wait", "--silent",
                                  "-m", "fast", "-D", str(cluster.data_dir)])
        if result.returncode != 0:
            raise RingriftError(f"pg_ctl stop failed: {result.stdout.strip()}")
        return True


class ThrowawayPostgres:
    """A private server in a folder of its own, on a port of its own, removed at the end.

    For tests that must stop a database in the middle (an outage) without touching the
    shared server. The folder is made under ``/tmp`` because, run as root, the server runs
    as the ``postgres`` user, who cannot enter a test's private ``tmp_path``.

    Args:
        port: the port (default: a free one).
    """

    def __init__(self, port: int | None = None) -> None:
        import tempfile

        from ringrift.localinfra.process import free_port

        self._base = Path(tempfile.mkdtemp(prefix="ringrift-pg-", dir="/tmp"))
        self.cluster = LocalPostgres(self._base, port or free_port())

    @property
    def url(self) -> str:
        """The URL of the cluster's ``ringrift`` database."""
        return self.cluster.url

    def start(self) -> str:
        """Start the server (initdb on the first start); returns its URL."""
        return start_cluster(self.cluster)[0]

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are ended, as in a restart)."""
        stop_server(self.cluster)

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self._base, ignore_errors=True)


def server_running(cluster: LocalPostgres | None = None) -> bool:
    """Whether the private cluster's server process is up."""
    return _pg_ctl_status(cluster or default_cluster()) == 0


def _pg_ctl_status(cluster: LocalPostgres) -> int:
    """pg_ctl's status code: 0 running, 3 not running, 4 no data directory."""
    binaries = find_binaries(_data_version(cluster)) or find_binaries()
    if binaries is None or _data_version(cluster) is None:
        return 4
    return _as_server_user([str(binaries / "pg_ctl"), "status", "-D",
                            str(cluster.data_dir)]).returncode


def _initdb(cluster: LocalPostgres, binaries: Path) -> None:
    # Initialise into a scratch folder and rename it into place, so that an interrupted
    # initdb never leaves a half-made data directory that later starts would trip over.
    scratch = cluster.base_dir / "data.init"
    shutil.rmtree(scratch, ignore_errors=True)
    if _as_server_user(["test", "-w", str(cluster.base_dir)]).returncode != 0:
        raise RingriftError(
            f"the {SERVER_USER} user cannot write to {cluster.base_dir} (a folder above it is "
            "private); set RINGRIFT_POSTGRES_DIR to a folder outside root's home")
    password_file = cluster.base_dir / "password"
    password_file.write_text(PASSWORD + "\n")
    _hand_to_server_user(cluster.base_dir, password_file)
    log.info("creating a PostgreSQL cluster in %s", cluster.data_dir)
    result = _as_server_user(
        [str(binaries / "initdb"), "-D", str(scratch), f"--username={ROLE}",
         f"--pwfile={password_file}", "--auth=scram-sha-256", "--encoding=UTF8",
         "--locale=C.UTF-8", "--no-instructions"])
    password_file.unlink()
    if result.returncode != 0:
        raise RingriftError(f"initdb failed:\n{result.stdout[-3000:]}")
    with (scratch / "postgresql.conf").open("a") as conf:
        conf.write("\n# Written by ringrift infra postgres; settings in ringrift.conf.\n"
                   "include_if_exists = 'ringrift.conf'\n")
    scratch.rename(cluster.data_dir)


def _write_settings(cluster: LocalPostgres) -> None:
    """Loopback only, our port, the socket beside the data; rewritten at each start."""
    settings = cluster.data_dir / "ringrift.conf"
    settings.write_text(
        "listen_addresses = '127.0.0.1'\n"
        f"port = {cluster.port}\n"
        f"unix_socket_directories = '{cluster.base_dir}'\n"
        "max_connections = 200\n"
    )
    _hand_to_server_user(settings)


def _create_database(cluster: LocalPostgres) -> None:
    import psycopg

    maintenance = cluster.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                    (DATABASE,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _server_user() -> pwd.struct_passwd | None:
    """The OS user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise RingriftError(
            f"running as root, and PostgreSQL refuses to run as root, but there is no "
            f"{SERVER_USER!r} user to run it as; install Debian's postgresql package or run "
            "as an unprivileged user"
        ) from None


def _hand_to_server_user(*paths: Path) -> None:
    user = _server_user()
    for path in paths:
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)


def _as_server_user(command: list[str]) -> subprocess.CompletedProcess[str]:
    user = _server_user()
    if user is not None:
        command = ["runuser", "-u", user.pw_name, "--", *command]
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False, cwd="/")


@contextmanager
def _locked(cluster: LocalPostgres) -> Iterator[None]:
    """One launcher at a time per cluster (two clones may run `make test` together)."""
    cluster.base_dir.mkdir(parents=True, exist_ok=True)
    user = _server_user()
    if user is not None:
        os.chown(cluster.base_dir, user.pw_uid, user.pw_gid)
        cluster.base_dir.chmod(0o700)
    with (cluster.base_dir / "launcher.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=["start", "stop", "status", "url"],
        help="start: start the server if needed and print its URL (idempotent); stop: stop it; "
        "status: exit 0 when it answers; url: print the DATABASE_URL to use",
    )


def run(args: argparse.Namespace) -> int:
    cluster = default_cluster()
    if args.action == "start":
        url, started = ensure_server(cluster)
        log.info("PostgreSQL %s at %s", "started" if started else "already running", url)
        print(url)
        return 0
    if args.action == "url":
        print(external_url() or cluster.url)
        return 0
    if external_url() is not None:
        if args.action == "stop":
            print("DATABASE_URL names an external server; nothing to stop", file=sys.stderr)
            return 0
        answered = is_reachable(external_url() or "")
        print(f"{'answers' if answered else 'does not answer'}: {external_url()}")
        return 0 if answered else 1
    if args.action == "stop":
        stopped = stop_server(cluster)
        print("stopped" if stopped else f"not running (data in {cluster.data_dir})",
              file=sys.stderr)
        return 0
    running = server_running(cluster) and is_reachable(cluster.url)
    print(f"{'running' if running else 'not running'}: {cluster.url} (data in {cluster.data_dir})")
    return 0 if running else 1
