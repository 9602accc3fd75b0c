"""Budgets and overrides: every flag ``ringrift up`` gives a service is one that service reads.

Checks: each profile's flags (with the role and the flags that follow from the run's
settings) load with the service's own settings class, so a renamed setting fails here
rather than stopping the service at start; ``--set`` items become flags (switches too)
and bad items are refused naming the fix; the flags reach the right process, with the
override last (it wins).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from ringrift.errors import ConfigurationError
from ringrift.pipeline.processes import PIPELINE, common_flags, pipeline_processes
from ringrift.pipeline.profiles import PROFILES, override_flags, profile
from ringrift.pipeline.settings import UpSettings
from ringrift.service.flags import load_settings
from ringrift.service.settings import ServiceSettings


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service.replace('-', '_')}.settings")
    [cls] = [value for value in vars(module).values() if inspect.isclass(value)
             and issubclass(value, ServiceSettings) and value.service == service]
    return cls


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_flag_of_a_profile_is_a_setting_of_its_service(name: str, tmp_path: Path
                                                            ) -> None:
    settings = UpSettings(var_dir=tmp_path, profile=name, device="cpu")
    present, _missing = pipeline_processes()
    assert present, "no service of the pipeline exists"
    for process in present:
        flags = [*process.role_flags, *common_flags(settings, process),
                 *profile(name).for_process(process.name)]
        loaded = load_settings(settings_class(process.service), flags)
        assert loaded.service == process.service
    # No profile names a process that does not exist.
    assert set(profile(name).flags) <= {process.name for process in PIPELINE}


def test_a_profile_budget_reaches_the_service(tmp_path: Path) -> None:
    present = {process.name: process for process in pipeline_processes()[0]}
    if "exporter" not in present:
        pytest.skip("no exporter service")
    loaded = load_settings(settings_class("exporter"), list(profile("tiny").for_process(
        "exporter")))
    assert loaded.shard_samples == 300  # type: ignore[attr-defined]


def test_overrides_become_flags_per_process() -> None:
    flags = override_flags(["trainer.samples_per_candidate=8192", "evaluator.gate-elo1=30",
                            "evaluator.gate_promote_inconclusive=true",
                            "promoter.verify_weights=False"],
                           ["trainer", "evaluator", "promoter"])
    assert flags == {"trainer": ("--samples-per-candidate", "8192"),
                     "evaluator": ("--gate-elo1", "30", "--gate-promote-inconclusive"),
                     "promoter": ("--no-verify-weights",)}


@pytest.mark.parametrize(("item", "message"), [
    ("trainer.samples_per_candidate", "expected SERVICE.FIELD=VALUE"),
    ("samples_per_candidate=3", "expected SERVICE.FIELD=VALUE"),
    ("nobody.x=1", "no process 'nobody'"),
])
def test_bad_overrides_are_refused(item: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        override_flags([item], ["trainer"])


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="choose one of default, tiny"):
        profile("huge")
