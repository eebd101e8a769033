"""A loopback HTTP server that misbehaves on purpose: each test scripts its answers, byte for byte if need be.

>>> with HostileServer(lambda request: reply(200, {"senders": [], "meta": {}})) as server:  # doctest: +SKIP
...     run_cli("plan", env=clean_env(TWILIO_MESSAGING_BASE_URL=server.base_url, ...))

An answer is the bytes to send (then the connection is closed), ``DROP`` (close without a word), a
:class:`Trickle`: a start sent at once, then an endless stream of one byte at a time, until the client
gives up or the server is closed, or a :class:`Flood`: a start, then a chunk again and again, as fast as
the client reads, until it has sent ``times`` of them or the client stops reading. Every request is
recorded, with how many bytes its answer sent.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes
    sent: int = 0  # bytes of the answer written so far


@dataclass(frozen=True)
class Trickle:
    """``start`` at once, then ``byte`` forever, one every ``interval`` seconds."""

    start: bytes
    byte: bytes = b"x"
    interval: float = 0.1


@dataclass(frozen=True)
class Flood:
    """``start``, then ``chunk`` ``times`` over (a body of ``len(chunk) * times`` bytes, never all in memory)."""

    start: bytes
    chunk: bytes
    times: int


DROP = b""
Answer = bytes | Trickle | Flood


def reply(status: int, body: Any = None, *, raw: bytes | None = None, reason: str = "OK",
          headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response: ``body`` as JSON, or ``raw`` bytes as they are."""
    content = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(content)), "Connection": "close",
            **(headers or {})}
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1") + content


@dataclass
class _State:
    answer: Callable[[Request], Answer]
    stopping: threading.Event = field(default_factory=threading.Event)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        state = self.server.state
        request = self._read()
        if request is None:
            return
        with state.lock:
            state.requests.append(request)
        answer = state.answer(request)
        try:
            if isinstance(answer, Trickle):
                self._send(request, answer.start)
                while not state.stopping.wait(answer.interval):
                    self._send(request, answer.byte)
            elif isinstance(answer, Flood):
                self._send(request, answer.start)
                for _ in range(answer.times):
                    if state.stopping.is_set():
                        break
                    self._send(request, answer.chunk)
            else:
                self._send(request, answer)
        except OSError:  # the client gave up: what a trickle waits for
            pass

    def _send(self, request: Request, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        request.sent += len(data)

    def _read(self) -> Request | None:
        line = self.rfile.readline(65537).decode("latin-1").rstrip("\r\n")
        if not line:
            return None
        method, target, _ = line.split(" ", 2)
        headers: dict[str, str] = {}
        while (header := self.rfile.readline(65537).decode("latin-1").rstrip("\r\n")):
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.rfile.read(int(headers.get("content-length", "0")))
        return Request(method, target, headers, body)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State


class HostileServer:
    """``answer(request)`` decides every answer; ``base_url`` is where the client should go."""

    def __init__(self, answer: Callable[[Request], Answer]):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = _State(answer)
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[Request]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.state.stopping.set()  # ends every trickle
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
