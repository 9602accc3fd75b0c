"""Where a run's time went: CPU and work seconds per stage, from the services' metrics.

Printed when ``ringrift up`` stops (and by ``make bench-pipeline``): per process the CPU
seconds it used (``process_cpu_seconds_total``, which every service exposes) and that
per hour of the run, so on a shared machine one sees which stage the cores went to;
beside it the work seconds the stages count themselves (training seconds summed over
candidates, evaluation seconds summed over evaluations); then, per config, the current
model's file and the ``ringrift match`` commands that measure it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from ringrift.pipeline.probe import ProbeSnapshot
from ringrift.pipeline.state import PipelineState

STAGE_SECONDS = {
    "trainer": ("ringrift_trainer_candidate_training_seconds_sum", "training"),
    "evaluator": ("ringrift_evaluator_evaluation_seconds_sum", "evaluation"),
}
"""Per process: the metric that sums its work seconds, and what the work is called."""


def time_report(probes: ProbeSnapshot, run_seconds: float,
                restarts: dict[str, int] | None = None) -> list[str]:
    """Lines saying where the CPU and work time went over ``run_seconds``."""
    hours = max(run_seconds, 1.0) / 3600
    lines = [f"where the time went over {run_seconds / 60:.1f} min (CPU seconds from each "
             "process's /metrics; a restart starts its count again):"]
    total = 0.0
    rows = []
    for name, probe in sorted(probes.processes.items()):
        used = probe.metrics.total("process_cpu_seconds_total")
        if used is None:
            continue
        total += used
        work = ""
        if name in STAGE_SECONDS:
            metric, what = STAGE_SECONDS[name]
            seconds = probe.metrics.total(metric)
            if seconds is not None:
                work = f", {what} {seconds:,.0f} s ({seconds / hours:,.0f} s/h)"
        again = (restarts or {}).get(name, 0)
        rows.append((name, used, work + (f", restarted {again}x" if again else "")))
    for name, used, work in rows:
        share = used / total if total else 0.0
        lines.append(f"  {name:22} CPU {used:8,.0f} s  {used / hours:8,.0f} s/h  "
                     f"{share:5.1%}{work}")
    lines.append(f"  {'all':22} CPU {total:8,.0f} s  {total / hours:8,.0f} s/h")
    return lines


def measure_lines(state: PipelineState) -> list[str]:
    """Per config with a promoted model: which one is current and the ``ringrift match``
    commands that measure it against the random and the heuristic player."""
    lines = []
    with state.lock:
        configs = [state.configs[key] for key in sorted(state.configs)]
    for config in configs:
        if not config.current_model or not config.current_weights:
            continue
        parsed = urlparse(config.current_weights)
        if parsed.scheme == "file":
            model, fetch = unquote(parsed.path), ""
        else:
            model = f"{config.key}-current.pt"
            fetch = f"ringrift artifacts get {config.current_weights} -o {model} && "
        lines.append(f"{config.key}: current model {config.current_model} (revision "
                     f"{config.revision}); measure it with")
        lines += [f"  {fetch}ringrift match {model} --opponent {opponent} --games 200"
                  for opponent in ("random", "heuristic")]
    return lines
