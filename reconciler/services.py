"""Messaging v1: an account's Messaging Services and their sender pools, read and changed through its client.

    pools = ServicePools(client)
    live = await pools.read()                      # every service, then every pool side by side
    await pools.remove(SUPPORT, "XE…")             # DELETE /v1/Services/MG…/ChannelSenders/XE… (204)
    await pools.add(SALES, "XE…")                  # POST   /v1/Services/MG…/ChannelSenders, Sid=XE… (201)

The v1 API is on the Senders API's host and takes the same credentials, so it is spoken through the
account's :class:`~reconciler.client.SendersClient`: its retries, deadlines, answer cap and adaptive
concurrency hold for these requests too, and they count against the same limit. There is no reverse
lookup (which service holds this sender?): every service's pool is listed, at most ``concurrency`` pages
at once. Lists follow ``meta.next_page_url`` as the API gives it, on this origin only, and end: a page
seen twice, an empty page that links on, or more than ``MAX_PAGES`` pages is an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

from reconciler.auth import same_origin, shown_url
from reconciler.client import MAX_PAGE_SIZE, MAX_PAGES, SendersClient
from reconciler.errors import ApiError
from reconciler.models import SERVICES_PATH, LivePools, Service, is_service_sid
from reconciler.responses import kind_of
from reconciler.text import clip, escape_control

_T = TypeVar("_T")


def pool_path(service: str) -> str:
    """``/v1/Services/MG…/ChannelSenders``: a service's pool (the SID quoted: it may come from a file or the API)."""
    return f"{SERVICES_PATH}/{quote(service, safe='')}/ChannelSenders"


class ServicePools:
    """An account's Messaging Services and their pools, through the account's client."""

    def __init__(self, client: SendersClient, *, page_size: int = MAX_PAGE_SIZE, max_pages: int = MAX_PAGES):
        self._client = client
        self._page_size = page_size
        self._max_pages = max_pages

    async def services(self) -> list[Service]:
        """Every Messaging Service of the account, with its friendly name."""
        return [_service(row) for row in await self._rows(SERVICES_PATH, "services")]

    async def pool(self, service: str) -> list[str]:
        """The SIDs of the senders in a service's pool (rows without one are left out: nothing can match them)."""
        rows = await self._rows(pool_path(service), "senders")
        return [row["sid"] for row in rows if isinstance(row, dict) and isinstance(row.get("sid"), str) and row["sid"]]

    async def read(self) -> LivePools:
        """The services, then every pool, side by side."""
        services = await self.services()
        pools = await gather_all([self.pool(s.sid) for s in services])
        return LivePools.of(services, {s.sid: pool for s, pool in zip(services, pools, strict=True)})

    async def add(self, service: str, sender_sid: str) -> None:
        """Put a sender in a service's pool; :class:`ApiError` for any answer but a 2xx (Twilio: 201)."""
        await self._client.create({"Sid": sender_sid}, pool_path(service), form=True)

    async def remove(self, service: str, sender_sid: str) -> None:
        """Take a sender out of a service's pool; :class:`ApiError` for any answer but a 2xx (Twilio: 204)."""
        await self._client.delete(quote(sender_sid, safe=""), pool_path(service))

    async def _rows(self, path: str, key: str) -> list[Any]:
        """Every row of a v1 list, following ``meta.next_page_url`` to the end."""
        url: str | None = f"{path}?PageSize={self._page_size}"
        seen: set[str] = set()
        rows: list[Any] = []
        while url is not None:
            shown = shown_url(url)
            if url in seen:  # a server that loops its pages must not loop us
                raise ApiError("the API returned the same page twice", method="GET", url=shown)
            if len(seen) >= self._max_pages:
                raise ApiError(f"the list goes on past {self._max_pages} pages, the most this client reads: refusing "
                               "to read on", method="GET", url=shown)
            seen.add(url)
            page, next_url = _page(await self._client.get_json(url), key, shown)
            rows.extend(page)
            if next_url is not None and not same_origin(next_url, self._client.base_url):
                raise ApiError(f"the API's next_page_url points away from {self._client.base_url} "
                               f"({shown_url(next_url)}): refusing to send the credentials there")
            if next_url is not None and not page:
                raise ApiError("the API returned an empty page that links to a next page", method="GET", url=shown)
            url = next_url
        return rows


def _page(body: Any, key: str, shown: str) -> tuple[list[Any], str | None]:
    """A v1 list page's rows (under ``key``, or the key its ``meta`` names) and its next page's URL."""
    def wrong(what: str) -> ApiError:
        return ApiError(f"the list response {what}", method="GET", url=shown)

    if not isinstance(body, dict):
        raise wrong(f"is {kind_of(body)}, not an object")
    meta = body.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise wrong(f"has a 'meta' that is {kind_of(meta)}, not an object")
    meta = meta or {}
    rows = body.get(key)
    if not isinstance(rows, list) and isinstance(meta.get("key"), str):
        rows = body.get(meta["key"])  # the SDK reads the rows where meta.key says
    if not isinstance(rows, list):
        raise wrong(f"has no {key!r} array")
    next_url = meta.get("next_page_url")
    if next_url is not None and next_url != "" and not isinstance(next_url, str):
        raise wrong(f"has a meta.next_page_url that is {kind_of(next_url)}, not a URL")
    return rows, next_url or None


def _service(row: Any) -> Service:
    """A service of the list: a SID as Twilio writes them, or its pool could not be read (nor named safely)."""
    if not isinstance(row, dict):
        raise ApiError(f"the API listed a Messaging Service that is {kind_of(row)}, not an object")
    sid, name = row.get("sid"), row.get("friendly_name")
    if not isinstance(sid, str) or not is_service_sid(sid):
        shown = clip(escape_control(sid), 80) if isinstance(sid, str) else kind_of(sid)
        raise ApiError(f"the API listed a Messaging Service whose sid is not MG followed by 32 hex digits: {shown}")
    return Service(sid, name if isinstance(name, str) else None)


async def gather_all(awaitables: Iterable[Awaitable[_T]]) -> list[_T]:
    """Each result, in order; on the first failure the others are cancelled (and waited for), then it is raised."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
