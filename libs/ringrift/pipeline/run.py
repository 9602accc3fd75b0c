"""A local pipeline run: prepare, start, watch, stop; what ``ringrift up`` and the e2e test run.

:class:`Pipeline` is the run as an object (a context manager): :meth:`Pipeline.start`
prepares the infrastructure (:mod:`ringrift.pipeline.bootstrap`), starts every service
under a :class:`~ringrift.pipeline.supervisor.Supervisor` and the
:class:`~ringrift.pipeline.monitor.Monitor` that watches them; :meth:`Pipeline.stop`
stops the services, then the broker if this run started it. :func:`run_pipeline` is the
command around it: the live view (or plain lines) until Ctrl-C or ``duration_s``, then
the stop and the report of where the time went.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType, TracebackType

from ringrift.pipeline.bootstrap import Infrastructure, prepare, release
from ringrift.pipeline.monitor import Monitor
from ringrift.pipeline.processes import pipeline_processes, process_specs
from ringrift.pipeline.report import measure_lines, time_report
from ringrift.pipeline.settings import UpSettings
from ringrift.pipeline.supervisor import Supervisor

Echo = Callable[[str], None]


class Pipeline:
    """Every service of the pipeline, supervised and watched.

    Args:
        settings: the run.
        echo: where progress lines go.
    """

    def __init__(self, settings: UpSettings, echo: Echo = print) -> None:
        self.settings = settings
        self.echo = echo
        self.infrastructure: Infrastructure | None = None
        self.supervisor: Supervisor | None = None
        self.monitor: Monitor | None = None

    def start(self) -> Pipeline:
        """Prepare, then start every service and the monitor; returns at once.

        Raises:
            ConfigurationError, KafkaStartError, ProvisioningError: see :func:`prepare`.
        """
        processes, missing = pipeline_processes()
        if missing:
            self.echo(f"not started (no services/<name>/main.py yet): {', '.join(missing)}")
        self.infrastructure = infrastructure = prepare(self.settings, processes, self.echo)
        specs = process_specs(self.settings, processes,
                              bootstrap_servers=infrastructure.bootstrap_servers,
                              token=infrastructure.token)
        supervisor: Supervisor | None = None
        self.monitor = Monitor(self.settings, lambda: supervisor.status() if supervisor else [],
                               bootstrap_servers=infrastructure.bootstrap_servers,
                               token=infrastructure.token)
        self.supervisor = supervisor = Supervisor(specs, self.settings.log_dir,
                                                  on_event=self.monitor.on_supervisor_event)
        self.monitor.start()
        supervisor.start()
        return self

    def stop(self) -> None:
        """Stop the services (SIGTERM, grace period, SIGKILL), the monitor, the broker if
        this run started it."""
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.monitor is not None:
            self.monitor.close()
        if self.infrastructure is not None:
            release(self.settings, self.infrastructure, self.echo)

    @property
    def promoter_url(self) -> str:
        """The promoter's REST API (its port once announced; the default port before)."""
        port = None
        if self.supervisor is not None:
            status = next((s for s in self.supervisor.status() if s.name == "promoter"), None)
            port = status.port if status else None
        return f"http://{self.settings.http_host}:{port or 8105}"

    def __enter__(self) -> Pipeline:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def run_pipeline(settings: UpSettings, *, plain: bool, duration_s: float | None = None,
                 echo: Echo | None = None) -> int:
    """``ringrift up``: start, show the pipeline until Ctrl-C or ``duration_s``, stop."""
    echo = echo or (lambda line: print(line, flush=True))
    # The view shows what matters; a log line per HTTP probe would drown it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    pipeline = Pipeline(settings, echo)
    try:
        pipeline.start()
        assert pipeline.monitor is not None and pipeline.infrastructure is not None
        infrastructure = pipeline.infrastructure
        echo(f"promoter REST API: {pipeline.promoter_url}/docs  (operator token"
             f"{' made now' if infrastructure.token_created else ''}: {infrastructure.token}"
             f" , kept in {settings.token_path})")
        echo(f"logs: {settings.log_dir}/<service>.log · trace any id shown with "
             "`ringrift events trace ID` · Ctrl-C stops everything")
        _watch(pipeline, plain=plain, duration_s=duration_s, echo=echo)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(pipeline, echo)
    return 0


def _watch(pipeline: Pipeline, *, plain: bool, duration_s: float | None, echo: Echo) -> None:
    monitor = pipeline.monitor
    assert monitor is not None
    deadline = time.monotonic() + duration_s if duration_s else None
    if plain:
        from ringrift.pipeline.plain import PlainPrinter

        printer = PlainPrinter(monitor, echo)
        while deadline is None or time.monotonic() < deadline:
            printer.tick()
            time.sleep(1.0)
        return
    from rich.live import Live

    from ringrift.pipeline.view import render

    with Live(render(monitor, pipeline.promoter_url), refresh_per_second=1,
              screen=False, transient=False) as live:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1.0)
            live.update(render(monitor, pipeline.promoter_url))


def _stop(pipeline: Pipeline, echo: Echo) -> None:
    def again(_signum: int, _frame: FrameType | None) -> None:
        echo("already stopping: each service gets its grace period, then SIGKILL")

    previous = signal.signal(signal.SIGINT, again)
    try:
        report: list[str] = []
        if pipeline.monitor is not None and pipeline.supervisor is not None:
            final = pipeline.monitor.prober.probe_now()
            restarts = {status.name: status.restarts for status in pipeline.supervisor.status()}
            report = [*time_report(final, pipeline.monitor.uptime_s(), restarts),
                      *measure_lines(pipeline.monitor.state)]
            echo("stopping the services (SIGTERM, then up to "
                 f"{pipeline.settings.grace_s:g} s each to finish their work) ...")
        pipeline.stop()
        for line in report:
            echo(line)
        echo(f"stopped; state kept in {pipeline.settings.var_dir} (run again to resume)")
    finally:
        signal.signal(signal.SIGINT, previous)
