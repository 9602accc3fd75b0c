"""Decisions of the PostgreSQL launcher that need no server.

Checks: ``DATABASE_URL`` is used when it names PostgreSQL, refused with a clear
error when it names something else; ``RINGRIFT_PG_BIN`` picks a binary folder
only when it holds initdb, pg_ctl and postgres, and of the version asked for; a
data directory made by a version that is not installed gets an error naming the
package and the way out; the cluster lives outside the clone (the cache, or
/var/lib when root); with no binaries, a non-root launch fails naming the
apt-get command, and a root launch runs exactly ``apt-get update`` then the
non-interactive install (apt-get itself is replaced here by a recorder: the
real install is exercised by CI on a fresh machine); ``ringrift infra postgres
url|status|stop|start`` with an external ``DATABASE_URL`` prints it, reports it
unreachable, stops nothing and refuses to start; ``url`` of the local server
follows ``RINGRIFT_POSTGRES_PORT``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ringrift.cli.main import build_parser
from ringrift.errors import ConfigurationError, RingriftError
from ringrift.localinfra import postgres


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "RINGRIFT_PG_BIN", "RINGRIFT_POSTGRES_DIR",
                 "RINGRIFT_POSTGRES_PORT", "RINGRIFT_CACHE"):
        monkeypatch.delenv(name, raising=False)


def _fake_binaries(directory: Path, names: tuple[str, ...]) -> Path:
    directory.mkdir(parents=True)
    for name in names:
        (directory / name).write_text("#!/bin/sh\n")
        (directory / name).chmod(0o755)
    return directory


def test_database_url_naming_postgres_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    assert postgres.external_url() is None
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/x")
    assert postgres.external_url() == "postgresql://u:p@db:5432/x"


def test_database_url_naming_something_else_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/ringrift.db")
    with pytest.raises(ConfigurationError, match="unset it"):
        postgres.external_url()


def test_pg_bin_override_needs_all_three_binaries(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    complete = _fake_binaries(tmp_path / "complete", ("initdb", "pg_ctl", "postgres"))
    partial = _fake_binaries(tmp_path / "partial", ("pg_ctl",))

    monkeypatch.setenv("RINGRIFT_PG_BIN", str(complete))
    assert postgres.find_binaries() == complete
    monkeypatch.setenv("RINGRIFT_PG_BIN", str(partial))
    assert postgres.find_binaries() != partial


def test_binaries_of_the_data_directory_version_are_preferred(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binaries = _fake_binaries(tmp_path / "bin", ("initdb", "pg_ctl"))
    (binaries / "postgres").write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 99.2'\n")
    (binaries / "postgres").chmod(0o755)
    monkeypatch.setenv("RINGRIFT_PG_BIN", str(binaries))

    assert postgres.find_binaries("99") == binaries
    assert postgres.find_binaries("98") != binaries


def test_data_directory_of_a_missing_version_is_explained(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = postgres.LocalPostgres(tmp_path / "pg", port=1)
    (cluster.data_dir).mkdir(parents=True)
    (cluster.data_dir / "PG_VERSION").write_text("7\n")
    installed = _fake_binaries(tmp_path / "bin16", ("initdb", "pg_ctl", "postgres"))
    (installed / "pg_ctl").write_text("#!/bin/sh\nexit 3\n")  # `status`: not running
    monkeypatch.setattr(postgres, "find_binaries",
                        lambda version=None: installed if version in (None, "16") else None)
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 1000)

    with pytest.raises(RingriftError, match="made by PostgreSQL 7.*install postgresql-7"):
        postgres.ensure_server(cluster)


def test_cluster_lives_outside_the_clone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("RINGRIFT_CACHE", str(tmp_path))
    assert postgres.default_cluster() == postgres.LocalPostgres(tmp_path / "postgres", 54329)

    monkeypatch.setattr(postgres.os, "geteuid", lambda: 0)
    assert postgres.default_cluster().base_dir == Path("/var/lib/ringrift/postgres")

    monkeypatch.setenv("RINGRIFT_POSTGRES_DIR", str(tmp_path / "pg"))
    monkeypatch.setenv("RINGRIFT_POSTGRES_PORT", "55555")
    cluster = postgres.default_cluster()
    assert (cluster.base_dir, cluster.port) == (tmp_path / "pg", 55555)
    assert cluster.url == "postgresql://ringrift:ringrift@127.0.0.1:55555/ringrift"


def test_without_binaries_a_non_root_start_names_the_install_command(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(postgres, "find_binaries", lambda version=None: None)
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 1000)

    # Port 1: nothing answers there, so the launcher must try to start its own server.
    with pytest.raises(RingriftError, match=r"apt-get update && apt-get install -y .*postgresql"):
        postgres.ensure_server(postgres.LocalPostgres(tmp_path / "pg", port=1))
    assert not (tmp_path / "pg" / "data").exists()


def test_without_binaries_a_root_start_installs_them(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    installed = _fake_binaries(tmp_path / "bin", ("initdb", "pg_ctl", "postgres"))
    calls: list[tuple[list[str], str | None]] = []

    def apt_get(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = kwargs.get("env")
        calls.append((command, env.get("DEBIAN_FRONTEND") if isinstance(env, dict) else None))
        monkeypatch.setattr(postgres, "find_binaries", lambda version=None: installed)
        return subprocess.CompletedProcess(command, 0, "")

    monkeypatch.setattr(postgres, "find_binaries", lambda version=None: None)
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 0)
    monkeypatch.setattr(postgres.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(postgres.subprocess, "run", apt_get)

    assert postgres.install_binaries() == installed
    assert calls == [(["apt-get", "update"], "noninteractive"),
                     (postgres.INSTALL_COMMAND, "noninteractive")]


def test_failed_install_shows_apt_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 0)
    monkeypatch.setattr(postgres.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(postgres.subprocess, "run", lambda command, **_: subprocess.CompletedProcess(
        command, 100, "E: Unable to locate package postgresql"))

    with pytest.raises(RingriftError, match="Unable to locate package"):
        postgres.install_binaries()


def _infra_postgres(action: str) -> int:
    args = build_parser().parse_args(["infra", "postgres", action])
    return args.func(args)


def test_cli_with_an_external_server(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on loopback: nothing answers, and refusing takes no time.
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/x")

    assert _infra_postgres("url") == 0
    assert capsys.readouterr().out.strip() == "postgresql://u:p@127.0.0.1:1/x"
    assert _infra_postgres("status") == 1
    assert "does not answer" in capsys.readouterr().out
    assert _infra_postgres("stop") == 0
    assert "nothing to stop" in capsys.readouterr().err
    with pytest.raises(RingriftError, match="does not answer"):
        _infra_postgres("start")


def test_cli_url_of_the_local_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RINGRIFT_POSTGRES_DIR", str(tmp_path))
    monkeypatch.setenv("RINGRIFT_POSTGRES_PORT", "54999")

    assert _infra_postgres("url") == 0
    assert capsys.readouterr().out.strip() == (
        "postgresql://ringrift:ringrift@127.0.0.1:54999/ringrift")
