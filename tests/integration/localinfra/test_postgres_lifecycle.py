"""The PostgreSQL launcher's whole life cycle on a private cluster of its own.

Checks, on a second cluster (its own folder and port, so the session's server is
untouched): the first start creates the cluster and the ``ringrift`` database,
which answers at the URL it returns (to the right password only); a second start
does nothing; status reports it; stop stops it and a second stop is a no-op; a
start after a stop reuses the data (a table made before is still there); a
launcher pointed at another folder but the same port uses the server that
already answers there. Needs Debian's server binaries.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ringrift.localinfra import postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(postgres.find_binaries() is None,
                       reason="no PostgreSQL server binaries on this machine "
                       "(DATABASE_URL names an external server)"),
]


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[postgres.LocalPostgres]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Not tmp_path: as root the server runs as `postgres`, which must be able to reach it.
    parent = Path(tempfile.mkdtemp(prefix="ringrift-pg-test-", dir="/var/tmp"))
    parent.chmod(0o755)
    cluster = postgres.LocalPostgres(parent / "cluster", port=postgres.DEFAULT_PORT + 10)
    yield cluster
    postgres.stop_server(cluster)
    shutil.rmtree(parent)


def test_start_stop_restart(cluster: postgres.LocalPostgres) -> None:
    url, started = postgres.ensure_server(cluster)
    assert (url, started) == (cluster.url, True)
    with psycopg.connect(url, autocommit=True) as connection:
        assert connection.execute("SELECT current_database()").fetchone() == ("ringrift",)
        connection.execute("CREATE TABLE survives_restart (v INTEGER)")
    assert not postgres.is_reachable(url.replace(":ringrift@", ":wrong@"), timeout_s=2)

    assert postgres.ensure_server(cluster) == (cluster.url, False)
    assert postgres.server_running(cluster)

    assert postgres.stop_server(cluster) is True
    assert not postgres.server_running(cluster)
    assert not postgres.is_reachable(cluster.url, timeout_s=1)
    assert postgres.stop_server(cluster) is False

    assert postgres.ensure_server(cluster) == (cluster.url, True)
    with psycopg.connect(url) as connection:
        connection.execute("SELECT count(*) FROM survives_restart")


def test_a_server_already_answering_on_the_port_is_used(cluster: postgres.LocalPostgres) -> None:
    postgres.ensure_server(cluster)
    elsewhere = postgres.LocalPostgres(cluster.base_dir.parent / "other", port=cluster.port)

    assert postgres.ensure_server(elsewhere) == (cluster.url, False)
    assert not elsewhere.data_dir.exists()
