"""``ringrift service``: listing the services and starting one by name.

Checks: ``list`` shows each service with its port, env prefix and database; ``run`` with an
unknown name fails naming the known ones; flags after the name reach the service (its own
``--help``, listing its settings, exits 0) and an invalid one is named by the service;
the global ``--log-level``/``--log-json`` reach the service, its own flags after them win.
"""

from __future__ import annotations

import pytest

from ringrift.cli.main import main as ringrift


def test_list_shows_each_service(capsys: pytest.CaptureFixture[str]) -> None:
    assert ringrift(["service", "list"]) == 0
    out = capsys.readouterr().out
    assert "example" in out and "port 8100" in out and "RINGRIFT_EXAMPLE_*" in out
    assert "sqlite:///var/db/example.db" in out


def test_run_an_unknown_service_names_the_known_ones(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    assert ringrift(["service", "run", "nowhere"]) == 2
    assert "no service 'nowhere'; known: " in capsys.readouterr().err


def test_flags_after_the_name_go_to_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        ringrift(["service", "run", "example", "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith("usage: ringrift service run example")
    assert "--report-every-s" in out and "RINGRIFT_EXAMPLE_REPORT_EVERY_S" in out
    assert ringrift(["service", "run", "example", "--report-every-s", "never"]) == 2
    assert "invalid setting RINGRIFT_EXAMPLE_REPORT_EVERY_S" in capsys.readouterr().err


def test_the_global_logging_flags_reach_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    import services.example.main as example_main

    seen: list[list[str]] = []
    monkeypatch.setattr(example_main, "main", lambda argv: seen.append(argv) or 0)
    assert ringrift(["--log-level", "debug", "--log-json", "service", "run", "example",
                     "--log-level", "warning"]) == 0
    assert seen == [["--log-level", "DEBUG", "--log-json", "--log-level", "warning"]]
