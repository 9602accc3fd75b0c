"""Budgets of a local pipeline run: the flags ``ringrift up`` gives each service.

The services' own defaults are sized for a cluster. On one machine the budgets have to
share two CPU cores between self-play, training and evaluation, and show a first
promotion within minutes; a profile is that choice, written once as each service's
flags (so ``ringrift service run X --help`` explains every one, and a flag the service
does not know stops it at start instead of being ignored).

* ``default``: two CPU cores, square8 2-player, the cadence of the single-process loop it
  replaces: ~64 games (~4,000 samples) a shard and a candidate, 400 steps of 128 over a
  window that starts at ~16,000 samples (about six shards: each sample is revisited ~13
  times), 16 simulations in self-play and evaluation, the evaluator's SPRT gate with its
  defaults but a cap of 128 games and H1 at +75 Elo (``make bench-gate``: an equal
  candidate is promoted 2.5% of the time after 95 games on average, a +100 one 84% after
  87, where the default cap of 400 costs 213 games for an equal one: on two cores the gate
  would eat the self-play). The trainer holds a config's next run while its last
  candidate is unevaluated (``--max-unevaluated 1``): one evaluation takes minutes where
  4,096 new samples take well under one, so without it candidates would pile up, each
  evaluated in full and in order, and self-play would starve; the held run trains on
  everything that arrived meanwhile. One torch thread per process: two threads per
  process on two busy cores spin against each other.
* ``tiny``: a plumbing run for tests: tiny network, 2 simulations, shards of ~300
  samples, a candidate per ~600 new samples over a window of at least 1,200 (so every
  shard since the last candidate is in the next one's window), a 4-game gate that
  passes when inconclusive, so that two promotions take a few minutes. Evaluation is
  the slow stage (a 4-game gate takes longer than self-play needs for 600 samples):
  fewer, cheaper candidates keep the backlog a test waits on short.

``--set SERVICE.FIELD=VALUE`` on ``ringrift up`` overrides one setting; see
:func:`override_flags`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ringrift.errors import ConfigurationError


@dataclass(frozen=True)
class Profile:
    """Flags per process name (``cluster-monitor`` and ``cluster-monitor-agent`` apart)."""

    name: str
    description: str
    flags: Mapping[str, tuple[str, ...]]

    def for_process(self, process: str) -> tuple[str, ...]:
        return self.flags.get(process, ())


DEFAULT = Profile("default", "two CPU cores, first promotion within ~10 minutes", {
    "selfplay": ("--simulations", "16", "--concurrency", "64", "--torch-threads", "1"),
    "exporter": ("--shard-samples", "4096", "--max-delay-s", "120"),
    "trainer": ("--samples-per-candidate", "4096", "--window-min-rows", "16384",
                "--train-samples", "51200", "--batch-size", "128", "--preset", "tiny",
                "--torch-threads", "1", "--max-unevaluated", "1"),
    "evaluator": ("--simulations", "16", "--threads", "1", "--concurrency", "32",
                  "--gate-elo1", "75", "--gate-max-games", "128"),
})
TINY = Profile("tiny", "tests: tiny network and budgets, two promotions in minutes", {
    "selfplay": ("--simulations", "2", "--max-considered-actions", "2", "--concurrency", "8",
                 "--max-moves", "400",
                 "--torch-threads", "1"),
    "exporter": ("--shard-samples", "300", "--max-delay-s", "30", "--build-step-s", "0.2"),
    "trainer": ("--samples-per-candidate", "600", "--window-min-rows", "1200",
                "--train-samples", "256", "--batch-size", "32", "--min-batch-size", "16",
                "--preset", "tiny", "--checkpoint-every", "4", "--torch-threads", "1"),
    "evaluator": ("--simulations", "2", "--threads", "1", "--concurrency", "8",
                  "--max-moves", "400", "--gate-batch-games", "4", "--gate-max-games", "4",
                  "--gate-promote-inconclusive", "--baseline-games", "2",
                  "--baselines-every", "1000", "--decision-wait-s", "30"),
})
PROFILES: dict[str, Profile] = {profile.name: profile for profile in (DEFAULT, TINY)}


def profile(name: str) -> Profile:
    """The profile called ``name``.

    Raises:
        ConfigurationError: there is none.
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(f"no profile {name!r}; choose one of "
                                 f"{', '.join(PROFILES)}") from None


def override_flags(overrides: Sequence[str], processes: Sequence[str]
                   ) -> dict[str, tuple[str, ...]]:
    """``SERVICE.FIELD=VALUE`` items as flags per process (``trainer.batch_size=256`` ->
    ``--batch-size 256`` for the trainer; ``VALUE`` ``true``/``false`` for a switch).

    Raises:
        ConfigurationError: an item is not of that form, or names no process.
    """
    flags: dict[str, list[str]] = {}
    for item in overrides:
        target, sep, value = item.partition("=")
        process, dot, field = target.partition(".")
        if not sep or not dot or not field or not process:
            raise ConfigurationError(f"--set {item!r}: expected SERVICE.FIELD=VALUE, e.g. "
                                     "trainer.samples_per_candidate=8192")
        if process not in processes:
            raise ConfigurationError(f"--set {item!r}: no process {process!r}; the processes "
                                     f"are {', '.join(processes)}")
        flag = "--" + field.replace("_", "-")
        if value.lower() in ("true", "false"):
            flags.setdefault(process, []).append(flag if value.lower() == "true" else
                                                 "--no-" + flag[2:])
        else:
            flags.setdefault(process, []).extend([flag, value])
    return {process: tuple(items) for process, items in flags.items()}
