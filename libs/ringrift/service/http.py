"""The HTTP server of a service: ``/healthz``, ``/readyz``, ``/metrics``, and its own routes.

One FastAPI app per process, served by uvicorn in a background thread, so the
processing loop keeps the main thread (and its signal handlers). A service that serves
a REST API (the promoter) adds its routes to :attr:`HttpServer.app` before the runtime
starts; everything shares one port. The socket is bound before uvicorn starts, so port
0 ("any free port") is known at once and logged.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from ringrift.errors import ConfigurationError
from ringrift.service.health import Health

log = logging.getLogger(__name__)


class HttpServer:
    """Serves ``health``'s probes and the process's metrics on ``host:port``.

    Args:
        health: the probes to answer.
        host: the address to listen on.
        port: the port; 0 picks a free one (see :attr:`port` after :meth:`start`).
        title: the app's title (shown in the OpenAPI page of services with REST routes).
    """

    def __init__(self, health: Health, host: str, port: int, title: str = "ringrift") -> None:
        self.health = health
        self.host = host
        self.port = port
        self.app = FastAPI(title=title)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._add_probes()

    def _add_probes(self) -> None:
        health = self.health

        @self.app.get("/healthz", include_in_schema=False)
        def healthz() -> JSONResponse:
            report = health.liveness()
            return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)

        @self.app.get("/readyz", include_in_schema=False)
        def readyz() -> JSONResponse:
            report = health.readiness()
            return JSONResponse(report.as_json(), status_code=200 if report.ok else 503)

        @self.app.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    def start(self, timeout_s: float = 30.0) -> None:
        """Bind the port and serve in a background thread; returns once it accepts.

        Raises:
            ConfigurationError: the port cannot be bound (in use, not permitted).
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as error:
            sock.close()
            raise ConfigurationError(f"cannot serve HTTP on {self.host}:{self.port}: "
                                     f"{error.strerror}; choose another --http-port (0 picks "
                                     "a free one)") from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigurationError(f"the HTTP server on {self.host}:{self.port} did not "
                                         "start; see the log above")
            time.sleep(0.01)
        log.info("serving HTTP on http://%s:%d (/healthz /readyz /metrics)", self.host,
                 self.port)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving (open connections get a moment to finish)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
