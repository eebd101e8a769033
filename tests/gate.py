"""A loopback HTTP proxy that holds chosen requests until the test lets them go.

A test that signals the CLI "while writes are in flight" must know that they are. Added latency only
makes that likely; a gate in front of the emulator makes it so: the test lets some requests through,
waits until the next ones are held (the CLI is now waiting on them), acts, then opens the gate or
leaves the held requests to die with the proxy, never forwarded.

    with Gate(emulator.base_url, hold=WRITES) as gate:
        gate.let_through(3)                        # three writes pass, the next ones wait
        run = Running("apply", ..., env=server_env(gate))
        wait_for(lambda: gate.held == 3, ...)      # three writes are in flight, none of them sent on
        gate.open()                                # everything passes from now on
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import aiohttp
from aiohttp import web

WRITES = frozenset({"POST", "DELETE"})
READS = frozenset({"GET"})
#: Headers of one hop, not passed on (the relay's own client and server set them).
_HOP_BY_HOP = frozenset({"host", "connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer",
                         "upgrade", "proxy-authorization", "proxy-authenticate", "content-encoding", "accept-encoding"})


class Gate:
    """Forwards every request to ``upstream``; requests whose method is in ``hold`` wait for a pass.

    With nothing to hold it is a plain relay; ``upstream`` may be changed while it runs.
    """

    def __init__(self, upstream: str, hold: frozenset[str] = WRITES):
        self.upstream = upstream.rstrip("/")
        self.hold = hold
        self.base_url: str | None = None
        self._lock = threading.Lock()
        self._passes = 0
        self._open = False
        self._held = 0
        self._forwarded = 0
        self._dropped = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._released: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ what the test sees and does

    @property
    def held(self) -> int:
        """Requests waiting at the gate now."""
        with self._lock:
            return self._held

    @property
    def forwarded(self) -> int:
        """Requests of the held kind that were sent on (by a pass or once the gate was open)."""
        with self._lock:
            return self._forwarded

    @property
    def dropped(self) -> int:
        """Held requests whose client had gone when the gate opened: never sent on."""
        with self._lock:
            return self._dropped

    def let_through(self, n: int) -> None:
        """The next ``n`` requests of the held kind pass without waiting."""
        with self._lock:
            self._passes += n

    def open(self) -> None:
        """Release the held requests and let every later one pass."""
        with self._lock:
            self._open = True
        if self._loop is not None and self._released is not None:
            self._loop.call_soon_threadsafe(self._released.set)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(sock, ready), name="test-gate", daemon=True)
        self._thread.start()
        ready.wait()
        return self.base_url

    def stop(self) -> None:
        """Stop listening; requests still held are cancelled, never forwarded."""
        if self._thread is None:
            return
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> Gate:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._released, self._stopped = asyncio.Event(), asyncio.Event()
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)

        async def setup() -> None:
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._session = aiohttp.ClientSession(auto_decompress=False)

        try:
            loop.run_until_complete(setup())
            ready.set()
            loop.run_until_complete(self._stopped.wait())
            loop.run_until_complete(runner.cleanup())
        finally:
            ready.set()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            if self._session is not None:
                loop.run_until_complete(self._session.close())
            loop.close()

    # ------------------------------------------------------------------ requests

    def _take_pass(self) -> bool:
        with self._lock:
            if self._open:
                return True
            if self._passes > 0:
                self._passes -= 1
                return True
            self._held += 1
            return False

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method in self.hold:
            if not self._take_pass():
                assert self._released is not None
                try:
                    await self._released.wait()
                finally:
                    with self._lock:
                        self._held -= 1
                transport = request.transport
                if transport is None or transport.is_closing():
                    with self._lock:
                        self._dropped += 1
                    raise asyncio.CancelledError  # its client gave up: nobody to answer, nothing to send on
            with self._lock:
                self._forwarded += 1
        session = self._session
        assert session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False, "skip_auto_headers": ("Accept-Encoding",)}
        if body:
            kwargs["data"] = body
        async with session.request(request.method, self.upstream + request.path_qs, **kwargs) as upstream:
            content = await upstream.read()
            back = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP]
            response = web.Response(status=upstream.status, body=content)
            for k, v in back:
                response.headers.add(k, v)
            return response
