"""A TCP proxy in front of the web server that loses answers on the way back to the phone.

For a share of the connections whose request line matches, it passes the whole request on,
reads the server's whole answer (so the server did its work and committed) and then closes the
phone's connection without a byte: the phone sees the connection drop and must send again, as
on a mobile network that fails after the upload. Clients send ``Connection: close`` (urllib
does), one request per connection.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading

CHUNK = 64 * 1024


class DroppingProxy:
    """Listens on 127.0.0.1:``port``; forwards to ``upstream_port``; ``dropped`` counts losses."""

    def __init__(
        self, upstream_port: int, drop_ratio: float, *, prefixes: tuple[bytes, ...], seed: int = 7
    ) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.drop_ratio = drop_ratio
        self.prefixes = prefixes  # request lines that may lose their answer, e.g. b"POST /api/"
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.dropped = 0
        self.passed = 0
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> DroppingProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _lose(self, first: bytes) -> bool:
        if not first.startswith(self.prefixes):
            return False
        with self.lock:
            lose = self.random.random() < self.drop_ratio
            self.dropped += lose
            self.passed += not lose
            return lose

    def _serve(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            first = client.recv(CHUNK)
            if not first:
                return
            lose = self._lose(first)
            with socket.create_connection(self.upstream, timeout=120) as upstream:
                upstream.sendall(first)
                upload = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
                upload.start()
                _pipe(upstream, None if lose else client)
                if lose:
                    # The answer was read to its end: the server is done. The phone gets the
                    # connection closed with no answer (shutdown also wakes the upload thread's
                    # recv, which would otherwise keep the socket open until the phone gives up).
                    client.shutdown(socket.SHUT_RDWR)


def _pipe(source: socket.socket, target: socket.socket | None) -> int:
    """Copy until ``source`` closes (``target`` None: read and discard); bytes copied."""
    total = 0
    with contextlib.suppress(OSError):
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            total += len(data)
            if target is not None:
                target.sendall(data)
        if target is not None:
            target.shutdown(socket.SHUT_WR)
    return total
