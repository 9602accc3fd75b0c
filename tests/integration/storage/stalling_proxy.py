"""A TCP proxy that forwards a set number of request bytes, then holds every connection.

It stands between an S3 client and the server to freeze an upload part-way through the
body, so that the uploading process can be killed while the server holds a partial
object. Responses pass through unchanged.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

_CHUNK = 64 << 10


class StallingProxy:
    """Listens on a free loopback port; forwards to ``upstream_port`` until ``budget`` bytes.

    ``stalled`` is set once the budget of client-to-server bytes is spent; from then on no
    more request bytes are forwarded. :meth:`close` drops every connection, as a killed
    client's would be.
    """

    def __init__(self, upstream_port: int, budget: int) -> None:
        self.upstream_port = upstream_port
        self.budget = budget
        self.forwarded = 0
        self.stalled = threading.Event()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        while not self._closing.is_set():
            with self._lock:
                allowed = min(_CHUNK, self.budget - self.forwarded)
            if allowed <= 0:
                self.stalled.set()
                self._closing.wait()  # hold: read nothing more until the test closes us
                return
            try:
                data = client.recv(allowed)
                if not data:
                    return
                upstream.sendall(data)
            except OSError:
                return
            with self._lock:
                self.forwarded += len(data)

    def _responses(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while data := upstream.recv(_CHUNK):
                client.sendall(data)
        except OSError:
            return
