"""The HTTP side of the emulator: aiohttp routes, accounts and their credentials, faults, and a thread to run it in.

>>> with EmulatorServer(subaccounts=2) as server:         # doctest: +SKIP
...     customer = server.accounts()[1]
...     httpx.get(server.base_url + "/v2/Channels/Senders", params={"Channel": "whatsapp"},
...               auth=(customer.sid, customer.auth_token))      # that subaccount's senders
"""

from __future__ import annotations

import asyncio
import contextvars
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

from reconciler.emulator import v2010
from reconciler.emulator.accounts import (
    AUTH_TOKEN,
    PARENT_NAME,
    Accounts,
    EmulatorAccount,
    Principal,
    default_parent_sid,
    derived_token,
)
from reconciler.emulator.faults import FaultInjector, Faults
from reconciler.emulator.pages import page_meta, parse_list_query
from reconciler.emulator.records import dumps
from reconciler.emulator.state import AccountStores
from reconciler.emulator.store import SenderStore
from reconciler.emulator.validation import ApiProblem, invalid
from reconciler.models import SENDERS_PATH

log = logging.getLogger("reconciler.emulator")

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

INSTANCE_PATH = SENDERS_PATH + "/{Sid}"
_JSON_HEADERS = {"Content-Type": "application/json"}
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
#: What aiohttp makes of _JSON_HEADERS for a text body; a body given as bytes gets it spelt out.
_JSON_UTF8_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
#: Set per request by the middleware (handlers run in the same task): drop the connection after a write.
_DROP_AFTER_COMMIT: contextvars.ContextVar[bool] = contextvars.ContextVar("drop_after_commit", default=False)
#: Whom the request speaks for, set by the middleware; None: no middleware ran (a benchmark calling a handler).
_PRINCIPAL: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def _problem_response(problem: ApiProblem, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=problem.status, text=dumps(problem.body()), headers={**_JSON_HEADERS, **(headers or {})}
    )


class _DropConnection(Exception):
    """The change is committed; answer by closing the connection without a response."""


class EmulatorServer:
    """A local, stateful Messaging v2 Senders API, for a parent account and its subaccounts.

    The credentials pick the account, and each account has its own senders. With no credentials
    configured every request is accepted, as the account its Basic user names (the parent otherwise).
    ``subaccounts``: that many subaccounts named "Subaccount 1", ... (those missing from the state
    file), with derived SIDs and tokens. ``clock`` (seconds since the epoch) exists so tests can move
    time forward instead of sleeping.
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
        subaccounts: int = 0,
        clock: Callable[[], float] = time.time,
    ):
        self.base_url: str | None = None
        self._public_url = public_url.rstrip("/") if public_url else None
        sid = account_sid or default_parent_sid()
        parent = EmulatorAccount(sid, auth_token or derived_token(sid), PARENT_NAME, sid)
        self._accounts = Accounts(
            parent, check=bool((account_sid and auth_token) or (api_key and api_secret)),
            parent_token=bool(account_sid and auth_token), clock=clock,
        )
        if api_key and api_secret:
            self._accounts.add_key(sid, api_key, api_secret)
        self._stores = AccountStores(
            self._accounts, state_file=state_file, transition_delay=transition_delay, review_delay=review_delay,
            clock=clock,
        )
        self._store = self._stores.parent  # the parent's senders
        self._stores.numbered(subaccounts)
        self._faults = FaultInjector(faults or Faults())
        self._stats: dict[str, int] = {"total": 0}
        self._account_stats: dict[str, dict[str, int]] = {}
        # Per account: requests received and not yet answered, but those refused as over the limit.
        self._in_flight: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopped: asyncio.Event | None = None

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
        self._set_base_urls()
        if not self._accounts.check:
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

    # ------------------------------------------------------------------ accounts

    @property
    def parent(self) -> EmulatorAccount:
        """The parent account (with a derived SID when none was configured)."""
        return self._accounts.parent

    def accounts(self) -> list[EmulatorAccount]:
        """Every account, the parent first, then the subaccounts in creation order."""
        return self._accounts.all()

    def add_account(
        self, friendly_name: str, *, sid: str | None = None, auth_token: str | None = None, status: str = "active"
    ) -> EmulatorAccount:
        """A subaccount of the parent, with its own senders. Without ``sid``/``auth_token`` they are
        derived from the parent's SID and the subaccount's number, so repeated runs agree."""
        return self._stores.add(friendly_name, sid=sid, auth_token=auth_token, status=status)

    def add_api_key(self, account_sid: str, key_sid: str, secret: str, *, main: bool = False) -> None:
        """An API key of ``account_sid``. A standard key reaches that account's senders but not the
        Accounts resource; a main key (``main=True``) acts as the auth token."""
        self._accounts.add_key(account_sid, key_sid, secret, main=main)

    def set_account_status(self, sid: str, status: str) -> EmulatorAccount:
        """Suspend, close or reactivate an account: the credentials of one not active are refused
        (a suspended parent's subaccounts too). Raises KeyError for an unknown SID."""
        return self._stores.set_status(sid, status)

    # ------------------------------------------------------------------ test hooks

    def add_sender(
        self, body: dict[str, Any], status: str = "ONLINE", *, account: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Seed a sender of ``account`` (None: the parent) in create-body shape; ``extra``: response-only
        fields, ``sid``. Returns its API shape."""
        return self._stores.store(account).add(body, status, **extra)

    def senders(self, account: str | None = None) -> list[dict[str, Any]]:
        """Every sender of ``account`` (None: the parent), in creation order, as the API shows them now."""
        return self._stores.store(account).all()

    def get_sender(self, sid: str) -> dict[str, Any] | None:
        """Sender ``sid``, in whichever account holds it."""
        return self._stores.holding(sid).get(sid)

    def update_sender_state(self, sid: str, **fields: Any) -> dict[str, Any]:
        """Set ``status``, ``offline_reasons``, ``properties``, ``pending_display_name*`` ... as they are.

        Setting ``status`` cancels a scheduled transition; setting ``pending_display_name_status``
        cancels a scheduled review (``COMPLETED`` applies the pending name). Any account's sender;
        raises KeyError for an unknown sid.
        """
        return self._stores.holding(sid).set_state(sid, **fields)

    @property
    def public_url(self) -> str | None:
        """The base of absolute URLs in responses (``url``, ``meta.*_url``)."""
        return (self._public_url or self.base_url) if self.base_url else self._public_url

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        """Point absolute URLs elsewhere, e.g. at a proxy in front of the emulator; None: the bound address."""
        self._public_url = value.rstrip("/") if value else None
        self._set_base_urls()

    def _set_base_urls(self) -> None:
        if self.base_url:
            self._stores.set_base_url(self._public_url or self.base_url)

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults (and restart their random sequence from ``faults.seed``)."""
        self._faults = FaultInjector(faults)

    @property
    def faults(self) -> Faults:
        return self._faults.faults

    def stats(self, account: str | None = None) -> dict[str, int]:
        """Requests received per ``"METHOD /route"``, plus ``"total"``; with ``account``, those of that
        account alone (by the account its credentials name, accepted or not).

        Injected faults are counted too, once any happened: ``"fault 429"``, ``"fault 5xx"``,
        ``"fault drop"`` (a write committed, then its connection closed), ``"fault slow"`` and
        ``"fault concurrency"`` (429s for being over ``max_in_flight``);
        ``"client gone"`` counts requests whose client disconnected before sending them in full.
        """
        if account is not None:
            return dict(self._account_stats.get(account, {"total": 0}))
        return dict(self._stats)

    def reset_stats(self) -> None:
        self._stats = {"total": 0}
        self._account_stats = {}

    # ------------------------------------------------------------------ HTTP

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024 * 1024)
        app.router.add_get(SENDERS_PATH, self._list, allow_head=False)
        app.router.add_post(SENDERS_PATH, self._create)
        app.router.add_get(INSTANCE_PATH, self._fetch, allow_head=False)
        app.router.add_post(INSTANCE_PATH, self._update)
        app.router.add_delete(INSTANCE_PATH, self._delete)
        app.router.add_get(v2010.ACCOUNTS_PATH, self._list_accounts, allow_head=False)
        app.router.add_get(v2010.ACCOUNT_PATH, self._fetch_account, allow_head=False)
        app.router.add_get(v2010.NUMBERS_PATH, self._list_numbers, allow_head=False)
        return app

    async def _delay(self, seconds: float) -> None:
        """Hold a request for ``seconds`` (latency, slow faults): the one place the server waits."""
        await asyncio.sleep(seconds)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        key = f"{request.method} {route.canonical if route is not None else request.path}"
        claimed, principal = self._accounts.authenticate(request.headers.get("Authorization", ""))
        stats, own = self._stats, self._account_stats.setdefault(claimed, {"total": 0})
        for counts in (stats, own):
            counts[key] = counts.get(key, 0) + 1
            counts["total"] += 1
        request_id = "RQ" + uuid.uuid4().hex
        faults = self._faults
        limit = faults.faults.max_in_flight
        in_flight = self._in_flight
        # Twilio's limit is the account's. Decided on arrival; the latency is its wait.
        over = limit is not None and in_flight.get(claimed, 0) >= limit
        if over:
            stats["fault concurrency"] = stats.get("fault concurrency", 0) + 1
        in_flight[claimed] = in_flight.get(claimed, 0) + (0 if over else 1)
        try:
            if faults.faults.latency:
                await self._delay(faults.faults.latency)
            headers = {"T-Request-Id": request_id}
            if principal is None:
                return _problem_response(ApiProblem(401, 20003, "Authenticate"), {**headers, **_CHALLENGE})
            _PRINCIPAL.set(principal)
            if over:  # Twilio's concurrency limit: 20429 and, as Twilio, no Retry-After
                return _problem_response(ApiProblem(429, 20429, "Too Many Requests"), headers)
            refused = await self._inject_faults(request, faults, headers)
            if refused is not None:
                return refused
            response = await self._handle(request, handler)
            response.headers["T-Request-Id"] = request_id
            return response
        finally:
            in_flight[claimed] -= 0 if over else 1

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

    def _principal(self, request: web.Request) -> Principal:
        """Whom the request speaks for (the parent's token when no middleware ran, as in benchmarks)."""
        return _PRINCIPAL.get() or Principal(self.parent, AUTH_TOKEN)

    def _senders_of(self, request: web.Request) -> SenderStore:
        return self._stores.store(self._principal(request).account.sid)

    async def _list(self, request: web.Request) -> web.Response:
        query = parse_list_query(request.query)
        store = self._senders_of(request)
        if query.channel == "whatsapp":
            senders, next_after, previous_after, _ = store.page_json(query.after, query.page_size)
        else:  # an RCS sender cannot be created here
            senders, next_after, previous_after = b"[]", None, None
        meta = page_meta(f"{store.base_url}{SENDERS_PATH}", query, next_after, previous_after)
        # What dumps({"senders": [...], "meta": meta}) writes, with the senders' array as the store encoded it.
        body = b'{"senders":' + senders + b',"meta":' + dumps(meta).encode() + b"}"
        return web.Response(body=body, headers=_JSON_UTF8_HEADERS)

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        sender = self._senders_of(request).create(body)
        self._commit_and_maybe_drop(request)
        return web.Response(status=202, text=dumps(sender), headers=_JSON_HEADERS)

    async def _fetch(self, request: web.Request) -> web.Response:
        sender = self._senders_of(request).fetch(request.match_info["Sid"])
        return web.Response(text=dumps(sender), headers=_JSON_HEADERS)

    async def _update(self, request: web.Request) -> web.Response:
        sid = request.match_info["Sid"]
        store = self._senders_of(request)
        store.fetch(sid)  # 404 before complaining about the body
        body = await self._json_body(request)
        sender = store.update(sid, body)
        self._commit_and_maybe_drop(request)
        return web.Response(status=202, text=dumps(sender), headers=_JSON_HEADERS)

    async def _delete(self, request: web.Request) -> web.Response:
        self._senders_of(request).delete(request.match_info["Sid"])
        self._commit_and_maybe_drop(request)
        return web.Response(status=204)

    def _readable_accounts(self, request: web.Request) -> list[EmulatorAccount]:
        """The accounts these credentials may read; a 401 for a standard API key, as Twilio answers."""
        principal = self._principal(request)
        if not principal.reads_accounts:
            raise ApiProblem(401, 20003, "Authenticate")
        return self._accounts.visible(principal)

    async def _list_accounts(self, request: web.Request) -> web.Response:
        visible = self._readable_accounts(request)
        text = v2010.accounts_page_json(visible, v2010.parse_accounts_query(request.query), self._accounts.dates)
        return web.Response(text=text, headers=_JSON_HEADERS)

    async def _fetch_account(self, request: web.Request) -> web.Response:
        sid = request.match_info["Sid"]
        account = next((a for a in self._readable_accounts(request) if a.sid == sid), None)
        if account is None:
            raise v2010.not_found(request.path)
        return web.Response(text=dumps(v2010.render_account(account, self._accounts.dates)), headers=_JSON_HEADERS)


    async def _list_numbers(self, request: web.Request) -> web.Response:
        """Any credentials may list an account's numbers (a standard key too), for their own account or, for a
        parent's, a subaccount's; any other account's path is not found for them."""
        sid = request.match_info["Sid"]
        if all(a.sid != sid for a in self._accounts.visible(self._principal(request))):
            raise v2010.not_found(request.path)
        return web.Response(text=dumps(v2010.numbers_page(sid, request.query)), headers=_JSON_HEADERS)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
