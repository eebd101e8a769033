"""The only module that speaks HTTP: a small async client for the Messaging v2 Senders API.

- Reads all senders with the list endpoint (``PageSize=1000``, following ``meta.next_page_url``), and
  refuses a list that does not end: a page seen twice, an empty page that links to another, more pages
  than the senders the API counts (or than :data:`MAX_PAGES`) can fill.
- Retries 429 (honouring ``Retry-After`` when present), 5xx and transport failures with exponential
  backoff and full jitter (tenacity); every attempt has a deadline (see :class:`RetryPolicy`).
- Keeps at most ``concurrency`` requests in flight, reads and writes alike, and fewer while the account
  refuses more (429 / 20429): the limit adapts (:class:`~reconciler.limiter.AdaptiveLimiter`, AIMD). It
  starts at 12, grows fast until the first 429, is cut by a fifth on a 429 and grows by one per window of
  successes, always between 1 and ``concurrency``. ``adaptive=False`` keeps it fixed at ``concurrency``.
- ``stats_file=PATH``: at close, the client appends its :class:`Stats` to PATH as one line of JSON
  (requests, retries, 429s, the limit and its history, ``seconds`` it was open); the benchmark reads it.
  The command line takes both from its options (``RECONCILER_ADAPTIVE``, ``RECONCILER_STATS_FILE``).
- Converts every failure, whatever the server sent, into one :class:`~reconciler.errors.ApiError`
  carrying Twilio's code, with the API's words escaped to one printable line; a write that may have been
  applied although it failed says so (``ApiError.outcome_unknown``).
- Never puts a credential in a message, a repr or a log line (credentials and URL checks: :mod:`reconciler.auth`).
- Reads a body as it streams in, and refuses a successful answer past ``max_answer_bytes`` (:data:`MAX_ANSWER_BYTES`)
  as soon as it passes: an answer of 300 MB, or without end, costs about that much memory at most.

Tests inject ``transport=httpx.MockTransport(...)``; integration tests point ``base_url`` at the emulator.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio._backends._asyncio  # the backend anyio imports when first asked for one
import certifi  # noqa: F401
import httpcore  # noqa: F401
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_random_exponential

from reconciler.auth import Credentials, check_base_url, is_loopback, same_origin, shown_url
from reconciler.connections import Connections
from reconciler.defaults import DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, DEFAULT_BASE_URL, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from reconciler.errors import ApiError
from reconciler.limiter import AdaptiveLimiter, Observer, Permit
from reconciler.models import CHANNEL, SENDERS_PATH, LiveSender
from reconciler.responses import error_fields, kind_of, live_sender, page_limit, page_parts, retry_after, senders_from_pages
from reconciler.text import clip, escape_control

# What httpx's transport and anyio import on first use, imported now: a first request may be made in a second
# thread, and two threads importing at once can deadlock (tests/integration/test_threads.py).
for _name in dir(anyio):  # each name anyio would import on its first use
    getattr(anyio, _name)

# Credentials, the URL checks and senders_from_pages are imported from here by the rest of reconciler.
__all__ = ["DEFAULT_BASE_URL", "DEFAULT_CONCURRENCY", "DEFAULT_TIMEOUT", "MAX_ANSWER_BYTES", "MAX_PAGES", "MAX_PAGE_SIZE",
           "Credentials", "RetryPolicy", "SendersClient", "Stats", "check_base_url", "is_loopback",
           "senders_from_pages", "shown_url"]

MAX_PAGE_SIZE = 1000
#: Pages read at most when the API does not say how many senders it holds: 10 million senders at 1,000 a page.
MAX_PAGES = 10_000
#: The largest (decoded) body of a successful answer read: a page of 1,000 senders is about 2 MB, an account 1 KB.
MAX_ANSWER_BYTES = 32 * 1024 * 1024

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_T = TypeVar("_T")

log = logging.getLogger("reconciler.http")
#: One line a retry; the CLI shows it at a terminal, so a long run of retries is not silence.
retry_log = logging.getLogger("reconciler.retry")


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``backoff`` is the base of the exponential wait, ``max_backoff`` its cap (seconds).

    ``timeout`` is the deadline of one attempt, from sending the request to the last byte of the answer,
    so a server that trickles its headers or body cannot stretch it. One call (a page, a write) therefore
    lasts at most ``attempts × timeout`` plus the waits between attempts (each at most ``max_backoff``,
    a ``Retry-After`` included), plus any wait for one of the client's ``concurrency`` connections.
    """

    attempts: int = DEFAULT_ATTEMPTS
    backoff: float = DEFAULT_BACKOFF
    max_backoff: float = 20.0
    timeout: float = DEFAULT_TIMEOUT


class _WaitRetryAfter(wait_base):
    """Honour a ``Retry-After`` the server sent (capped); otherwise exponential backoff with full jitter."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.fallback = wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, _RetryableError) else None
        if retry_after is not None:
            return min(retry_after, self.policy.max_backoff)
        return float(self.fallback(retry_state))


class _RetryableError(ApiError):
    """An ApiError worth another try (429, 5xx, a timeout, a transport failure), with the server's ``Retry-After``."""

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any):
        self.retry_after = retry_after
        super().__init__(message, **fields)


async def _within(awaitable: Awaitable[_T], seconds: float) -> _T:
    """``awaitable``'s result, or ``asyncio.TimeoutError`` once ``seconds`` have passed."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):  # no extra task per request, unlike wait_for before 3.12
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


# --------------------------------------------------------------------------- client


@dataclass
class Stats:
    """What the client sent; the benchmark and apply reports read it."""

    requests: int = 0
    retries: int = 0
    waited: float = 0.0  # seconds of backoff between attempts
    by_method: dict[str, int] = field(default_factory=dict)
    throttled: int = 0  # answers 429
    #: ``(seconds since the client was made, requests allowed in flight)``: the first, then every change.
    limit_history: list[tuple[float, int]] = field(default_factory=list)

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return self.limit_history[-1][1] if self.limit_history else 0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "waited": self.waited,
                "by_method": dict(self.by_method), "throttled": self.throttled, "limit": self.limit,
                "limit_history": [list(change) for change in self.limit_history]}


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
        max_pages: int = MAX_PAGES,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        adaptive: bool = True,
        stats_file: str | None = None,
        observer: Observer | None = None,
        connections: Connections | None = None,
    ):
        self.base_url = check_base_url(base_url)
        self._host = urlsplit(self.base_url).netloc
        self.retry = retry
        self.page_size, self.max_pages, self.max_answer_bytes = page_size, max_pages, max_answer_bytes
        # One limiter per client, and one client per account: the account's limit is what it finds; ``observer`` hears answers.
        self._limiter = AdaptiveLimiter(max(concurrency, 1), adaptive=adaptive, observer=observer)
        self.stats = Stats(limit_history=self._limiter.history)
        self._stats_file = stats_file
        self._auth = httpx.BasicAuth(credentials.username, credentials.secret)
        #: What an answer must never carry back into a message: the secret, alone, as user:secret, and as sent.
        pair = f"{credentials.username}:{credentials.secret}"
        self._secrets = tuple(v for v in (pair, base64.b64encode(pair.encode()).decode(), credentials.secret) if len(v) >= 4)
        # A connection per request in flight, its own or, given ``connections``, shared with the run's other accounts.
        self._owns = connections is None
        self._connections = connections or Connections(self.base_url, timeout=retry.timeout, transport=transport)
        if not self._connections.fits(self.base_url, retry.timeout, transport):
            raise ValueError("these connections lead elsewhere, or wait another time")

    async def __aenter__(self) -> SendersClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns:
            await self._connections.aclose()
        path, self._stats_file = self._stats_file, None
        if path is not None:
            try:
                with open(path, "a", encoding="utf-8") as out:
                    out.write(json.dumps({**self.stats.as_dict(), "seconds": self._limiter.elapsed}) + "\n")
            except OSError as exc:
                log.warning("cannot write the client's stats to %s: %s", escape_control(path), exc.strerror or exc)

    def _open(self) -> httpx.AsyncClient:
        return self._connections.take()

    @asynccontextmanager
    async def _connection(self, kind: str = "") -> AsyncIterator[tuple[httpx.AsyncClient, Permit]]:
        """A client with its own connection, kept for this request, and the limiter's permit for it: at
        most ``concurrency`` at once, fewer while the API refuses. Set the permit's outcome from the answer.

        A connection whose request failed midway (timed out, dropped, cancelled) is closed, not reused.
        """
        async with self._limiter.slot(kind) as permit:
            http = self._open()
            try:
                yield http, permit
            except BaseException:
                await self._connections.drop(http)
                raise
            self._connections.give(http)

    # ---- reads

    async def list_senders(self) -> list[LiveSender]:
        """Every WhatsApp sender of the account, following ``meta.next_page_url`` to the end."""
        senders: list[LiveSender] = []
        number = 0
        async for _, items in self._pages():
            number += 1
            senders.extend(live_sender(item, index, number) for index, item in enumerate(items))
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
        limit, why = self.max_pages, f"{self.max_pages} pages, the most this client reads"
        while url is not None:
            if url in seen:  # a server that loops its pages must not loop us
                raise ApiError("the API returned the same page twice", method="GET", url=shown_url(url))
            if len(seen) >= limit:
                raise ApiError(f"the list goes on past {why}: refusing to read on", method="GET", url=shown_url(url))
            seen.add(url)
            response, body = await self._json("GET", url, params=params)
            page, meta, next_url = page_parts(body, shown_url(url))
            yield response.content, page
            if next_url is None:
                return
            if not same_origin(next_url, self.base_url):
                raise ApiError(
                    f"the API's next_page_url points away from {self.base_url} ({shown_url(next_url)}): "
                    "refusing to send the credentials there"
                )
            if not page:
                raise ApiError("the API returned an empty page that links to a next page", method="GET", url=shown_url(url))
            limit, why = page_limit(meta, self.page_size, self.max_pages) or (limit, why)
            url, params = next_url, None

    async def fetch(self, sid: str) -> LiveSender:
        _, body = await self._json("GET", f"{SENDERS_PATH}/{sid}")
        return live_sender(body)

    async def get_json(self, path: str) -> Any:
        """The decoded body of a read of ``path`` on this client's origin (the Accounts resource, for one)."""
        _, body = await self._json("GET", path)
        return body

    # ---- writes

    async def create(self, body: Mapping[str, Any], under: str = SENDERS_PATH, *, form: bool = False) -> dict[str, Any]:
        """The sender as the API made it (``under`` another path, what it made there: form-encoded as v1 takes it)."""
        return await self._write("POST", under, body, form)

    async def update(self, sid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The sender as the API changed it; :class:`ApiError` for any other answer."""
        return await self._write("POST", f"{SENDERS_PATH}/{sid}", body)

    async def verify(self, sid: str, code: str) -> dict[str, Any]:
        """Submit the one-time code Meta sent for a sender in PENDING_VERIFICATION."""
        return await self.update(sid, {"configuration": {"verification_code": code}})

    async def delete(self, sid: str, under: str = SENDERS_PATH) -> None:
        await self._request("DELETE", f"{under}/{sid}")  # any 2xx: deleted, whatever its body

    async def _write(self, method: str, url: str, body: Mapping[str, Any], form: bool = False) -> dict[str, Any]:
        response, answer = await self._json(method, url, **{"data" if form else "json": dict(body)})
        if not isinstance(answer, dict):
            raise ApiError(
                f"the API answered with {kind_of(answer)}, not a sender: the change may have been applied",
                status=response.status_code, method=method, url=shown_url(url), outcome_unknown=True,
            )
        return answer

    # ---- plumbing

    async def _json(self, method: str, url: str, **kwargs: Any) -> tuple[_Answer, Any]:
        """The 2xx response and its decoded JSON body; :class:`ApiError` when there is none to decode."""
        response = await self._request(method, url, **kwargs)
        if response.content:
            try:
                return response, json.loads(response.content)
            except (ValueError, RecursionError):  # not JSON, not UTF-8, nested past the parser's depth
                pass
        write = method not in _READS
        what = "a body that is not JSON" if response.content else "an empty body"
        raise ApiError(
            f"the API answered with {what}" + (": the change may have been applied" if write else ""),
            status=response.status_code, method=method, url=shown_url(url), outcome_unknown=write,
        )

    async def _request(self, method: str, url: str, **kwargs: Any) -> _Answer:
        """The 2xx response, after retries; :class:`ApiError` otherwise.

        A write refused (4xx) after an earlier attempt that may have been applied is still ``outcome_unknown``.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(self.retry.attempts, 1)),
            wait=_WaitRetryAfter(self.retry),
            retry=retry_if_exception_type(_RetryableError),
            reraise=True,
            before_sleep=self._count_retry,
        )
        maybe_applied = may_land_later = False
        tries = 0
        try:
            async for attempt in retrying:
                with attempt:
                    tries += 1
                    try:
                        return await self._once(method, url, **kwargs)
                    except ApiError as exc:
                        maybe_applied = maybe_applied or exc.outcome_unknown
                        may_land_later = may_land_later or exc.may_land_later
                        raise
        except ApiError as exc:
            raise exc.with_context(
                outcome_unknown=exc.outcome_unknown or maybe_applied,
                may_land_later=exc.may_land_later or may_land_later,
                # a transport failure: say how hard it was tried
                attempts=tries if tries > 1 and exc.status is None else None,
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        self.stats.waited += state.next_action.sleep if state.next_action else 0.0
        exc = state.outcome.exception() if state.outcome else None
        log.info("retrying after: %s", exc)
        retry_log.warning("Retrying (attempt %d of %d) after: %s", state.attempt_number + 1, self.retry.attempts, exc)

    async def _once(self, method: str, url: str, **kwargs: Any) -> _Answer:
        self.stats.requests += 1
        self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
        shown = shown_url(url)
        write = method not in _READS
        try:
            async with self._connection(method) as (http, permit):
                response = await _within(self._send(http, method, url, kwargs), self.retry.timeout)
                permit.outcome = "ok" if response.is_success else "throttled" if response.status_code == 429 else "other"
        except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
            unsent = isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            raise _RetryableError(
                f"timed out: no complete answer within {self.retry.timeout:g}s",
                # a write that was sent: the server may still be working on it
                method=method, url=shown, outcome_unknown=write and not unsent, may_land_later=write and not unsent,
            ) from exc
        except httpx.TransportError as exc:
            raise _RetryableError(
                f"connection to {self._host} failed: {_described(exc)}",
                method=method, url=shown, outcome_unknown=write and not isinstance(exc, httpx.ConnectError),
            ) from exc
        except httpx.HTTPError as exc:  # an answer httpx cannot decode (Content-Encoding), redirects
            raise ApiError(f"unreadable answer: {_described(exc)}", method=method, url=shown, outcome_unknown=write) from exc
        except httpx.InvalidURL as exc:  # nothing was sent
            raise ApiError(f"the URL cannot be requested: {_described(exc)}", method=method, url=shown) from exc
        log.debug("%s %s -> %s", method, shown, response.status_code)
        if response.is_success:
            return response
        if response.status_code == 429:
            self.stats.throttled += 1
        raise _error_from(response, method, shown, self._secrets)

    async def _send(self, http: httpx.AsyncClient, method: str, url: str, kwargs: dict[str, Any]) -> _Answer:
        """The answer, its body read as it streams in: :class:`ApiError` once a successful one passes
        ``max_answer_bytes`` (by its Content-Length, or as it is read); an error's body is cut there."""
        limit, chunks, size = self.max_answer_bytes, [], 0
        response = await http.send(http.build_request(method, url, **kwargs), auth=self._auth, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            too_large = response.is_success and declared.isdigit() and int(declared) > limit
            if not too_large:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:  # an error's body: what fits tells Twilio's code and message
                        too_large = response.is_success
                        break
                    chunks.append(chunk)
        finally:
            await response.aclose()
        if too_large:
            write = method not in _READS
            raise ApiError(f"the answer from {self._host} is larger than {limit:,} bytes, the most this client reads"
                           + (": the change may have been applied" if write else ""),
                           method=method, url=shown_url(url), outcome_unknown=write)
        return _Answer(response.status_code, response.reason_phrase, response.headers, b"".join(chunks))


@dataclass(frozen=True)
class _Answer:
    """What is kept of an ``httpx.Response`` once its body is in."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def _hidden(text: str | None, secrets: tuple[str, ...]) -> str | None:
    for secret in secrets:
        if text and secret in text:
            text = text.replace(secret, "***")
    return text


def _described(exc: BaseException) -> str:
    text = str(exc)
    return clip(escape_control(f"{type(exc).__name__}: {text}" if text else type(exc).__name__))


def _error_from(response: _Answer, method: str, url: str, secrets: tuple[str, ...] = ()) -> ApiError:
    """Twilio's error body is ``{code, message, more_info, status}``; fall back to the HTTP reason. Whatever of
    the credentials an answer echoes (a proxy, a gateway) is hidden: the message is printed and logged."""
    code, message, more_info = error_fields(response.content)
    message, more_info = _hidden(message, secrets), _hidden(more_info, secrets)
    status = response.status_code
    text = _hidden(message or clip(escape_control(response.reason_phrase or "request failed")), secrets) or "request failed"
    # A 4xx is a refusal; a 5xx, or a 3xx this client does not follow, leaves a write's fate open.
    unknown = method not in _READS and not 400 <= status < 500
    if status == 429 or status >= 500:
        return _RetryableError(text, status=status, code=code, more_info=more_info, method=method, url=url,
                               outcome_unknown=unknown, retry_after=retry_after(response.headers.get("Retry-After")))
    return ApiError(text, status=status, code=code, more_info=more_info, method=method, url=url, outcome_unknown=unknown)
