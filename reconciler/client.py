"""The only module that speaks HTTP: a small async client for the Messaging v2 Senders API.

- Reads all senders with the list endpoint (``PageSize=1000``, following ``meta.next_page_url``).
- Retries 429 (honouring ``Retry-After`` when present), 5xx and transport failures with exponential
  backoff and full jitter (tenacity); every request has a timeout.
- Converts every failure into one :class:`~reconciler.errors.ApiError` carrying Twilio's code.
- Never puts a credential in a message, a repr or a log line.

Tests inject ``transport=httpx.MockTransport(...)``; integration tests point ``base_url`` at the emulator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_random_exponential

from reconciler import __version__
from reconciler.errors import ApiError, CredentialsError
from reconciler.models import CHANNEL, SENDERS_PATH, LiveSender

DEFAULT_BASE_URL = "https://messaging.twilio.com"
MAX_PAGE_SIZE = 1000
#: Writes in flight at once. Twilio limits concurrent requests per account (429 / 20429 past it);
#: 25 leaves room for the account's other traffic and is enough to keep latency, not the limit, the floor.
DEFAULT_CONCURRENCY = 25
DEFAULT_TIMEOUT = 30.0

log = logging.getLogger("reconciler.http")


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic credentials: an account SID + auth token, or an API key + secret.

    The secret is kept out of ``repr`` and ``str`` so it cannot reach logs or tracebacks by accident.
    """

    username: str
    secret: str = field(repr=False)
    account_sid: str | None = None

    def __str__(self) -> str:
        return f"{self.username} (secret hidden)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """As Twilio's own tools do: an API key pair takes precedence over the auth token."""
        env = os.environ if environ is None else environ
        sid = env.get("TWILIO_ACCOUNT_SID") or None
        key, key_secret = env.get("TWILIO_API_KEY"), env.get("TWILIO_API_SECRET")
        token = env.get("TWILIO_AUTH_TOKEN")
        if key and key_secret:
            return cls(key, key_secret, sid)
        if key or key_secret:
            missing = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY"
            raise CredentialsError(f"{missing} is not set (TWILIO_API_KEY and TWILIO_API_SECRET go together)")
        if sid and token:
            return cls(sid, token, sid)
        missing = [name for name, value in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not value]
        raise CredentialsError(
            f"no Twilio credentials: set {' and '.join(missing)} "
            "(or TWILIO_API_KEY and TWILIO_API_SECRET with TWILIO_ACCOUNT_SID)"
        )


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """Refuse a URL that would carry credentials in the clear to another machine, or in itself.

    A URL is printed (export header), logged (``--verbose``) and saved (plan files): credentials written
    into it (``https://AC...:token@host``) would go everywhere it goes, so such a URL is refused.
    """
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise CredentialsError(f"base URL {_shown_url(base_url)!r} is not a valid URL") from None
    if "@" in parts.netloc:
        raise CredentialsError(
            "the base URL must not hold credentials (user:secret@host): give them in TWILIO_ACCOUNT_SID and "
            "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(f"base URL {_shown_url(base_url)!r} must be an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise CredentialsError(
            f"refusing to send credentials over plain http to {parts.hostname}: use https "
            "(plain http is allowed only to a loopback address, such as the emulator)"
        )
    return base_url.rstrip("/")


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``backoff`` is the base of the exponential wait, ``max_backoff`` its cap (seconds)."""

    attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 20.0
    timeout: float = DEFAULT_TIMEOUT


class _WaitRetryAfter(wait_base):
    """Honour a ``Retry-After`` the server sent (capped); otherwise exponential backoff with full jitter."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.fallback = wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.policy.max_backoff)
        return self.fallback(retry_state)


class _RetryableError(ApiError):
    """An ApiError worth another try, with the server's ``Retry-After`` when it sent one."""

    retry_after: float | None = None


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


# --------------------------------------------------------------------------- client


@dataclass
class Stats:
    """What the client sent; the benchmark and apply reports read it."""

    requests: int = 0
    retries: int = 0
    waited: float = 0.0  # seconds of backoff between attempts
    by_method: dict[str, int] = field(default_factory=dict)


class SendersClient:
    """Async client of ``/v2/Channels/Senders``.

    >>> async with SendersClient(Credentials.from_env()) as api:   # doctest: +SKIP
    ...     senders = await api.list_senders()
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        concurrency: int = DEFAULT_CONCURRENCY,
        page_size: int = MAX_PAGE_SIZE,
    ):
        self.base_url = check_base_url(base_url)
        self.retry = retry
        self.page_size = page_size
        self.stats = Stats()
        self._auth = httpx.BasicAuth(credentials.username, credentials.secret)
        self._transport = transport
        self._ssl_context: Any = None
        # One single-connection httpx client per request in flight, instead of one client with a pool of
        # ``concurrency`` connections: httpcore's pool scans every connection for every queued request,
        # which cost more CPU than the rest of an update at 25 connections.
        self._slots = max(concurrency, 1)
        self._gate: asyncio.Semaphore | None = None
        self._idle: list[httpx.AsyncClient] = []
        self._clients: list[httpx.AsyncClient] = []

    async def __aenter__(self) -> SendersClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients, self._idle = self._clients, [], []
        for http in clients:
            await http.aclose()

    def _open(self) -> httpx.AsyncClient:
        if self._transport is None and self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()  # built once, shared: each costs ~20 ms of CPU
        http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=self._auth,
            headers={"User-Agent": f"reconciler/{__version__}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.retry.timeout),
            transport=self._transport,
            verify=self._ssl_context if self._ssl_context is not None else True,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=False,
        )
        self._clients.append(http)
        return http

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client with its own connection, kept for this request; at most ``concurrency`` at once."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(self._slots)
        async with self._gate:
            http = self._idle.pop() if self._idle else self._open()
            try:
                yield http
            finally:
                self._idle.append(http)

    # ---- reads

    async def list_senders(self) -> list[LiveSender]:
        """Every WhatsApp sender of the account, following ``meta.next_page_url`` to the end."""
        senders: list[LiveSender] = []
        async for _, items in self._pages():
            senders.extend(_live(item) for item in items)
        return senders

    async def read_pages(self) -> list[bytes]:
        """The list's pages as the API sent them; :func:`senders_from_pages` makes them senders.

        A page kept as bytes takes a quarter of the memory of the senders it holds, so a caller can
        read while it builds something else big (the CLI loads the desired state meanwhile) and
        decode afterwards, without holding both at their peak.
        """
        return [raw async for raw, _ in self._pages()]

    async def _pages(self) -> AsyncIterator[tuple[bytes, list[Any]]]:
        """Each page of the list: its body as sent, and its ``senders`` array."""
        url: str | None = SENDERS_PATH
        params: dict[str, Any] | None = {"Channel": CHANNEL, "PageSize": self.page_size}
        seen: set[str] = set()
        while url:
            if url in seen:  # a server that loops its pages must not loop us
                raise ApiError(f"the API returned the same page twice ({_shown_url(url)})")
            seen.add(url)
            raw, body = await self._request("GET", url, params=params, raw=True)
            page = body.get("senders") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise ApiError("the list response has no 'senders' array", method="GET", url=_shown_url(url))
            yield raw, page
            meta = body.get("meta") or {}
            url, params = meta.get("next_page_url") or None, None
            if url is not None:
                self._check_same_origin(url)

    def _check_same_origin(self, url: str) -> None:
        """A next page is read from the API's own host only: the request carries the credentials."""
        try:
            parts = urlsplit(url)
            if not parts.scheme and not parts.netloc:
                return  # relative: resolved against the base URL
            same = "@" not in parts.netloc and _origin(parts) == _origin(urlsplit(self.base_url))
        except ValueError:
            same = False
        if not same:
            raise ApiError(
                f"the API's next_page_url points away from {self.base_url} ({_shown_url(url)}): "
                "refusing to send the credentials there"
            )

    async def fetch(self, sid: str) -> LiveSender:
        return _live(await self._request("GET", f"{SENDERS_PATH}/{sid}"))

    # ---- writes

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._request("POST", SENDERS_PATH, json=dict(body))

    async def update(self, sid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._request("POST", f"{SENDERS_PATH}/{sid}", json=dict(body))

    async def verify(self, sid: str, code: str) -> dict[str, Any]:
        """Submit the one-time code Meta sent for a sender in PENDING_VERIFICATION."""
        return await self.update(sid, {"configuration": {"verification_code": code}})

    async def delete(self, sid: str) -> None:
        await self._request("DELETE", f"{SENDERS_PATH}/{sid}")

    # ---- plumbing

    async def _request(self, method: str, url: str, *, raw: bool = False, **kwargs: Any) -> Any:
        """The decoded JSON body (None for 204); with ``raw``, ``(body as sent, decoded body)``."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(self.retry.attempts, 1)),
            wait=_WaitRetryAfter(self.retry),
            retry=retry_if_exception(_is_retryable),
            reraise=True,
            before_sleep=self._count_retry,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, url, raw=raw, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        self.stats.waited += state.next_action.sleep if state.next_action else 0.0
        exc = state.outcome.exception() if state.outcome else None
        log.info("retrying after: %s", exc)

    async def _once(self, method: str, url: str, *, raw: bool = False, **kwargs: Any) -> Any:
        self.stats.requests += 1
        self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
        shown = _shown_url(url)
        try:
            async with self._connection() as http:
                response = await http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timed out after {self.retry.timeout:g}s", method=method, url=shown) from exc
        except httpx.TransportError as exc:
            raise _RetryableError(
                f"connection failed: {type(exc).__name__}: {exc}", method=method, url=shown
            ) from exc
        log.debug("%s %s -> %s", method, shown, response.status_code)
        if response.status_code == 204:
            return None
        if response.is_success:
            try:
                return (response.content, response.json()) if raw else response.json()
            except ValueError as exc:
                raise ApiError(
                    "the API answered with a body that is not JSON", status=response.status_code, method=method, url=shown
                ) from exc
        raise _error_from(response, method, shown)


def senders_from_pages(pages: Iterable[bytes]) -> list[LiveSender]:
    """The senders of pages read by :meth:`SendersClient.read_pages`, in order."""
    return [_live(item) for raw in pages for item in json.loads(raw)["senders"]]


def _live(item: Any) -> LiveSender:
    try:
        return LiveSender.model_validate(item)
    except Exception as exc:  # pydantic.ValidationError, TypeError
        raise ApiError(f"the API returned a sender this tool cannot read: {exc}") from exc


def _shown_url(url: str) -> str:
    """``url`` fit to print: anything that looks like ``user:secret@`` is cut out, parsed or not."""
    return re.sub(r"^([^/?#]*//)?[^/?#]*@", lambda m: m.group(1) or "", url)


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _error_from(response: httpx.Response, method: str, url: str) -> ApiError:
    """Twilio's error body is ``{code, message, more_info, status}``; fall back to the HTTP reason."""
    code = message = more_info = None
    try:
        body = response.json()
        if isinstance(body, dict):
            code = body.get("code") if isinstance(body.get("code"), int) else None
            message = body.get("message") if isinstance(body.get("message"), str) else None
            more_info = body.get("more_info") if isinstance(body.get("more_info"), str) else None
    except ValueError:
        pass
    status = response.status_code
    kwargs = dict(status=status, code=code, more_info=more_info, method=method, url=url)
    text = message or response.reason_phrase or "request failed"
    if status == 429 or status >= 500:
        err = _RetryableError(text, **kwargs)
        err.retry_after = _retry_after(response.headers.get("Retry-After"))
        return err
    return ApiError(text, **kwargs)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare; exponential backoff is a safe answer
    return max(seconds, 0.0)
