"""The HTTP side of the emulator: aiohttp routes, Basic auth, paging, faults, and a thread to run it in.

>>> with EmulatorServer() as server:                     # doctest: +SKIP
...     httpx.get(server.base_url + "/v2/Channels/Senders", params={"Channel": "whatsapp"})
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from aiohttp import web

from reconciler.emulator.faults import FaultInjector, Faults
from reconciler.emulator.pages import page_meta, parse_list_query
from reconciler.emulator.records import dumps
from reconciler.emulator.store import SenderStore
from reconciler.emulator.validation import ApiProblem, invalid
from reconciler.models import SENDERS_PATH

log = logging.getLogger("reconciler.emulator")

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

INSTANCE_PATH = SENDERS_PATH + "/{Sid}"
_JSON_HEADERS = {"Content-Type": "application/json"}
#: What aiohttp makes of _JSON_HEADERS for a text body; a body given as bytes gets it spelt out.
_JSON_UTF8_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
#: Set per request by the middleware (handlers run in the same task): drop the connection after a write.
_DROP_AFTER_COMMIT: contextvars.ContextVar[bool] = contextvars.ContextVar("drop_after_commit", default=False)


def _problem_response(problem: ApiProblem, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=problem.status, text=dumps(problem.body()), headers={**_JSON_HEADERS, **(headers or {})}
    )


class _DropConnection(Exception):
    """The change is committed; answer by closing the connection without a response."""


class EmulatorServer:
    """A local, stateful Messaging v2 Senders API.

    Credentials: with none configured every request is accepted. ``clock`` (seconds since the epoch)
    exists so tests can move time forward instead of sleeping.
    """

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        state_file: str | os.PathLike[str] | None = None,
        faults: Faults | None = None,
        transition_delay: float = 0.0,
        review_delay: float | None = None,
        public_url: str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self._credentials: dict[str, str] = {}
        if account_sid and auth_token:
            self._credentials[account_sid] = auth_token
        if api_key and api_secret:
            self._credentials[api_key] = api_secret
        self._store = SenderStore(
            state_file=state_file, transition_delay=transition_delay, review_delay=review_delay, clock=clock
        )
        self._faults = FaultInjector(faults or Faults())
        self._public_url = public_url.rstrip("/") if public_url else None
        self._stats: dict[str, int] = {"total": 0}
        self._in_flight = 0  # requests received and not yet answered, but those refused as over the limit
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopped: asyncio.Event | None = None
        self.base_url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = a free port) in a background thread; return the base URL."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if family == socket.AF_INET6 else host
        self.base_url = f"http://{shown_host}:{bound_port}"
        self._store.base_url = self._public_url or self.base_url
        if not self._credentials:
            log.warning("emulator: no credentials configured: accepting any credentials")
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready, errors), name="senders-emulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if errors:
            self._thread.join()
            self._thread = None
            raise errors[0]
        return self.base_url

    def _run(self, sock: socket.socket, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._stopped = asyncio.Event()
            app = self._make_app()
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
            loop.run_until_complete(self._runner.setup())
            site = web.SockSite(self._runner, sock)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # reported to start()
            errors.append(exc)
            sock.close()
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_until_complete(self._stopped.wait())
            loop.run_until_complete(self._runner.cleanup())
        finally:
            # Requests still held (slow faults, latency) end here rather than as destroyed tasks.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def stop(self) -> None:
        """Stop listening and end the background thread. Safe to call twice."""
        if self._thread is None:
            return
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> EmulatorServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test hooks

    def add_sender(self, body: dict[str, Any], status: str = "ONLINE", **extra: Any) -> dict[str, Any]:
        """Seed a sender (create-body shape; ``extra``: response-only fields, ``sid``). Returns its API shape."""
        return self._store.add(body, status, **extra)

    def senders(self) -> list[dict[str, Any]]:
        """Every sender, in creation order, as the API shows them now."""
        return self._store.all()

    def get_sender(self, sid: str) -> dict[str, Any] | None:
        return self._store.get(sid)

    def update_sender_state(self, sid: str, **fields: Any) -> dict[str, Any]:
        """Set ``status``, ``offline_reasons``, ``properties``, ``pending_display_name*`` ... as they are.

        Setting ``status`` cancels a scheduled transition; setting ``pending_display_name_status``
        cancels a scheduled review (``COMPLETED`` applies the pending name). Raises KeyError for an
        unknown sid.
        """
        return self._store.set_state(sid, **fields)

    @property
    def public_url(self) -> str | None:
        """The base of absolute URLs in responses (``url``, ``meta.*_url``)."""
        return self._store.base_url if self.base_url else self._public_url

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        """Point absolute URLs elsewhere, e.g. at a proxy in front of the emulator; None: the bound address."""
        self._public_url = value.rstrip("/") if value else None
        if self.base_url:
            self._store.base_url = self._public_url or self.base_url

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults (and restart their random sequence from ``faults.seed``)."""
        self._faults = FaultInjector(faults)

    @property
    def faults(self) -> Faults:
        return self._faults.faults

    def stats(self) -> dict[str, int]:
        """Requests received per ``"METHOD /route"``, plus ``"total"``.

        Injected faults are counted too, once any happened: ``"fault 429"``, ``"fault 5xx"``,
        ``"fault drop"`` (a write committed, then its connection closed), ``"fault slow"`` and
        ``"fault concurrency"`` (429s for being over ``max_in_flight``);
        ``"client gone"`` counts requests whose client disconnected before sending them in full.
        """
        return dict(self._stats)

    def reset_stats(self) -> None:
        self._stats = {"total": 0}

    # ------------------------------------------------------------------ HTTP

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        app.router.add_get(SENDERS_PATH, self._list, allow_head=False)
        app.router.add_post(SENDERS_PATH, self._create)
        app.router.add_get(INSTANCE_PATH, self._fetch, allow_head=False)
        app.router.add_post(INSTANCE_PATH, self._update)
        app.router.add_delete(INSTANCE_PATH, self._delete)
        return app

    def _authorized(self, request: web.Request) -> bool:
        if not self._credentials:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self._credentials.get(user)
        return bool(sep) and expected is not None and _same(password, expected)

    async def _delay(self, seconds: float) -> None:
        """Hold a request for ``seconds`` (latency, slow faults): the one place the server waits."""
        await asyncio.sleep(seconds)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        key = f"{request.method} {route.canonical if route is not None else request.path}"
        stats = self._stats
        stats[key] = stats.get(key, 0) + 1
        stats["total"] += 1
        request_id = "RQ" + uuid.uuid4().hex
        faults = self._faults
        limit = faults.faults.max_in_flight
        over = limit is not None and self._in_flight >= limit  # decided on arrival; the latency is its wait
        if over:
            stats["fault concurrency"] = stats.get("fault concurrency", 0) + 1
        self._in_flight += 0 if over else 1
        try:
            if faults.faults.latency:
                await self._delay(faults.faults.latency)
            headers = {"T-Request-Id": request_id}
            if not self._authorized(request):
                problem = ApiProblem(401, 20003, "Authenticate")
                return _problem_response(problem, {**headers, "WWW-Authenticate": 'Basic realm="Twilio API"'})
            if over:  # Twilio's concurrency limit: 20429 and, as Twilio, no Retry-After
                return _problem_response(ApiProblem(429, 20429, "Too Many Requests"), headers)
            refused = await self._inject_faults(request, faults, headers)
            if refused is not None:
                return refused
            response = await self._handle(request, handler)
            response.headers["T-Request-Id"] = request_id
            return response
        finally:
            self._in_flight -= 0 if over else 1

    async def _inject_faults(
        self, request: web.Request, faults: FaultInjector, headers: dict[str, str]
    ) -> web.Response | None:
        """The fault response for this request, if it gets one; otherwise hold it or mark it, as drawn."""
        stats = self._stats
        decision = faults.decide(write=request.method in ("POST", "DELETE"))
        if decision.throttle:
            stats["fault 429"] = stats.get("fault 429", 0) + 1
            if faults.faults.retry_after is not None:
                headers["Retry-After"] = _seconds(faults.faults.retry_after)
            return _problem_response(ApiProblem(429, 20429, "Too Many Requests"), headers)
        if decision.server_error:
            stats["fault 5xx"] = stats.get("fault 5xx", 0) + 1
            return _problem_response(ApiProblem(500, 20500, "Internal Server Error"), headers)
        if decision.slow and faults.faults.slow_seconds:
            stats["fault slow"] = stats.get("fault slow", 0) + 1
            # Receive the whole request first (aiohttp keeps the body): a client that gives up meanwhile
            # must not stop the write from being processed, as on a slow real server.
            try:
                await request.read()
            except ConnectionResetError:
                self._client_gone(stats)
            await self._delay(faults.faults.slow_seconds)
        # Awaited, not a task: the handler runs in this context and sees the value.
        _DROP_AFTER_COMMIT.set(decision.drop_after_commit)
        return None

    async def _handle(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """The handler's response, with every failure in Twilio's error shape."""
        try:
            return await handler(request)
        except ApiProblem as problem:
            return _problem_response(problem)
        except web.HTTPException as exc:  # unknown route or method: still Twilio's error shape
            code = 20404 if exc.status == 404 else exc.status
            message = "The requested resource was not found" if exc.status == 404 else exc.reason
            return _problem_response(ApiProblem(exc.status, code, message))
        except ConnectionResetError:  # the client left before its request was read in full
            self._client_gone(self._stats)
        except _DropConnection:
            self._stats["fault drop"] = self._stats.get("fault drop", 0) + 1
            # The write is committed. Abort the socket and end the handler the way aiohttp ends one
            # whose client went away, so nothing is written and nothing is logged.
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError() from None
        except Exception:  # a bug of ours: still answer in Twilio's shape, and say what happened
            log.exception("emulator: %s %s failed", request.method, request.path)
            return _problem_response(ApiProblem(500, 20500, "Internal Server Error"))

    @staticmethod
    def _client_gone(stats: dict[str, int]) -> NoReturn:
        """Nobody is left to answer: end the request quietly, as aiohttp does for a premature disconnect
        (an exception here would be logged as a server error with a traceback)."""
        stats["client gone"] = stats.get("client gone", 0) + 1
        raise asyncio.CancelledError()

    def _commit_and_maybe_drop(self, request: web.Request) -> None:
        if _DROP_AFTER_COMMIT.get():
            raise _DropConnection()

    async def _json_body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw) if raw else {}
        except (ValueError, UnicodeDecodeError):
            raise invalid("Invalid JSON in the request body") from None

    async def _list(self, request: web.Request) -> web.Response:
        query = parse_list_query(request.query)
        if query.channel == "whatsapp":
            senders, next_after, previous_after, _ = self._store.page_json(query.after, query.page_size)
        else:  # an RCS sender cannot be created here
            senders, next_after, previous_after = b"[]", None, None
        meta = page_meta(f"{self._store.base_url}{SENDERS_PATH}", query, next_after, previous_after)
        # What dumps({"senders": [...], "meta": meta}) writes, with the senders' array as the store encoded it.
        body = b'{"senders":' + senders + b',"meta":' + dumps(meta).encode() + b"}"
        return web.Response(body=body, headers=_JSON_UTF8_HEADERS)

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        sender = self._store.create(body)
        self._commit_and_maybe_drop(request)
        return web.Response(status=202, text=dumps(sender), headers=_JSON_HEADERS)

    async def _fetch(self, request: web.Request) -> web.Response:
        sender = self._store.fetch(request.match_info["Sid"])
        return web.Response(text=dumps(sender), headers=_JSON_HEADERS)

    async def _update(self, request: web.Request) -> web.Response:
        sid = request.match_info["Sid"]
        self._store.fetch(sid)  # 404 before complaining about the body
        body = await self._json_body(request)
        sender = self._store.update(sid, body)
        self._commit_and_maybe_drop(request)
        return web.Response(status=202, text=dumps(sender), headers=_JSON_HEADERS)

    async def _delete(self, request: web.Request) -> web.Response:
        self._store.delete(request.match_info["Sid"])
        self._commit_and_maybe_drop(request)
        return web.Response(status=204)


def _same(given: str, expected: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
