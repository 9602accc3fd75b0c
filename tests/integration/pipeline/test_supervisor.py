"""The supervisor with real child processes (small Python programs, no broker).

Checks: a process that dies is restarted after the backoff and the restarts are counted
and reported; exit status 2 (a configuration error) is not restarted and the reason from
its log is kept; exit 0 is not restarted; the HTTP port a process announces in its log is
picked up, again after a restart; ``stop`` sends SIGTERM and a process that ignores it is
killed after its grace period; ``stop_process`` stops one for good; a process in backoff
is stopped without a new start; the children run in their own session (a Ctrl-C of the
terminal does not reach them); a supervisor killed with SIGKILL takes its children with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ringrift.pipeline.supervisor import (
    BACKOFF,
    EXITED,
    FAILED,
    RUNNING,
    STOPPED,
    Backoff,
    ProcessSpec,
    Supervisor,
    SupervisorEvent,
)

QUICK = Backoff(initial_s=0.2, max_s=0.4, reset_after_s=600)


def program(body: str) -> tuple[str, ...]:
    return (sys.executable, "-c", textwrap.dedent(body))


def wait_until(condition: Callable[[], object], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


SERVE = """
import socket, sys, time
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen()
print(f"serving HTTP on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
time.sleep(600)
"""


def test_a_dead_process_is_restarted_with_backoff_and_its_new_port_is_found(tmp_path: Path
                                                                          ) -> None:
    marker = tmp_path / "first-run-done"
    # Dies once (after announcing a port), then serves on a new port.
    body = SERVE.replace("time.sleep(600)", f"""
import pathlib
m = pathlib.Path({str(marker)!r})
if not m.exists():
    m.write_text("x"); sys.exit(7)
time.sleep(600)""")
    events: list[SupervisorEvent] = []
    with Supervisor([ProcessSpec("flaky", program(body), dict(os.environ))], tmp_path / "log",
                    on_event=events.append, backoff=QUICK) as supervisor:
        wait_until(lambda: supervisor.process("flaky").restarts == 1
                   and supervisor.process("flaky").state == RUNNING)
        status = supervisor.process("flaky")
        assert status.last_exit == 7
        assert status.port == supervisor.port("flaky")
        log = status.log_path.read_text()
        assert log.count("=== ringrift up: starting flaky") == 2
        # The port is the one of the second start: the log holds both announcements.
        assert log.rsplit("serving HTTP on http://127.0.0.1:", 1)[1].split()[0] == \
            str(status.port)
    kinds = [event.kind for event in events if event.process == "flaky"]
    assert kinds == ["started", "died", "started", "stopped"]
    assert "exit status 7; restarting in 0.2 s" in events[1].message


def test_configuration_errors_and_clean_exits_are_not_restarted(tmp_path: Path) -> None:
    bad = program("""
import sys
print("ringrift service: error: invalid setting RINGRIFT_X_Y (flag --y): nope", file=sys.stderr)
sys.exit(2)""")
    done = program("import sys; sys.exit(0)")
    with Supervisor([ProcessSpec("bad", bad, dict(os.environ)),
                     ProcessSpec("done", done, dict(os.environ))], tmp_path / "log",
                    backoff=QUICK) as supervisor:
        wait_until(lambda: supervisor.process("bad").state == FAILED
                   and supervisor.process("done").state == EXITED)
        time.sleep(1.0)  # several backoff periods: still no second start
        bad_status = supervisor.process("bad")
        assert bad_status.restarts == 0 and bad_status.last_exit == 2
        assert "invalid setting RINGRIFT_X_Y" in bad_status.message
        assert supervisor.process("done").restarts == 0
        with pytest.raises(Exception, match="announced no HTTP port"):
            supervisor.port("bad", timeout=1)


def test_stop_terms_then_kills_what_outlives_its_grace_period(tmp_path: Path) -> None:
    polite = program(SERVE.replace("time.sleep(600)", """
import signal
signal.signal(signal.SIGTERM, lambda *_: (print("got SIGTERM", flush=True), sys.exit(0)))
time.sleep(600)"""))
    stubborn = program(SERVE.replace("time.sleep(600)", """
import signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(600)"""))
    supervisor = Supervisor([ProcessSpec("polite", polite, dict(os.environ), grace_s=30),
                             ProcessSpec("stubborn", stubborn, dict(os.environ), grace_s=1.0)],
                            tmp_path / "log").start()
    supervisor.port("polite")
    supervisor.port("stubborn")
    started = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - started < 20  # the polite one did not wait out its 30 s
    polite_status, stubborn_status = supervisor.status()
    assert polite_status.state == STOPPED and polite_status.last_exit == 0
    assert "got SIGTERM" in polite_status.log_path.read_text()
    assert stubborn_status.state == STOPPED and stubborn_status.last_exit == -signal.SIGKILL


def test_stop_process_stops_one_for_good_and_a_backoff_is_cancelled(tmp_path: Path) -> None:
    crashing = program("import sys, time; time.sleep(0.2); sys.exit(3)")
    slow_backoff = Backoff(initial_s=60, max_s=60)
    with Supervisor([ProcessSpec("server", program(SERVE), dict(os.environ)),
                     ProcessSpec("crashing", crashing, dict(os.environ))], tmp_path / "log",
                    backoff=slow_backoff) as supervisor:
        supervisor.port("server")
        assert supervisor.stop_process("server", timeout=60) == -signal.SIGTERM
        wait_until(lambda: supervisor.process("crashing").state == BACKOFF)
        supervisor.stop_process("crashing", timeout=10)
        assert supervisor.process("crashing").state == STOPPED
        time.sleep(0.5)
        assert supervisor.process("server").state == STOPPED  # not restarted
        assert supervisor.process("server").restarts == 0


def test_children_have_their_own_session_and_die_with_a_killed_supervisor(tmp_path: Path
                                                                           ) -> None:
    pid_file = tmp_path / "child.pid"
    child = SERVE.replace("time.sleep(600)", f"""
import os, pathlib
pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
time.sleep(600)""")
    script = tmp_path / "supervise.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from ringrift.pipeline.supervisor import ProcessSpec, Supervisor
        Supervisor([ProcessSpec("child", (sys.executable, "-c", {child!r}), dict(os.environ))],
                   Path({str(tmp_path / 'log')!r})).start()
        time.sleep(600)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], cwd=Path.cwd())
    try:
        wait_until(pid_file.exists)
        pid = int(pid_file.read_text())
        assert os.getsid(pid) == pid != os.getsid(parent.pid)  # its own session
        parent.kill()
        parent.wait(30)
        wait_until(lambda: not _alive(pid), timeout=30)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")
