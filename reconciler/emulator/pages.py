"""The list endpoints' query and their ``meta``: page sizes, opaque page tokens, absolute page URLs.

    query = parse_list_query({"Channel": "whatsapp", "PageSize": "50"})
    senders, next_after, previous_after, _ = store.page_json(query.after, query.page_size)
    meta = page_meta(base_url + SENDERS_PATH, query, next_after, previous_after)

    query = parse_v1_query({"PageSize": "50"})     # Messaging v1 lists: no Channel, 50 by default
    start, next_after, previous_after = page_bounds(seqs, query.after, query.page_size)
    meta = page_meta(base_url + "/v1/Services", query, next_after, previous_after, key="services")

A page token is the page number and the sequence number the page starts after, so paging stays
stable while senders are created or deleted. No HTTP here.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from reconciler.emulator.validation import CODE_INVALID_PARAMETER, invalid

DEFAULT_PAGE_SIZE = 20
#: Messaging v1 lists (Services, ChannelSenders): "The default is 50, and the maximum is 1000".
V1_DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
CHANNELS = ("whatsapp", "rcs")


@dataclass(frozen=True)
class ListQuery:
    """A checked list request: ``after`` is None on the first page; ``channel`` None for a v1 list."""

    channel: str | None
    page_size: int
    page: int
    after: int | None


def encode_token(page: int, after: int) -> str:
    raw = f"p{page}:a{after}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, int]:
    """``(page, after)`` of a token :func:`encode_token` made; a 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        page_part, after_part = raw.split(":")
        if not (page_part.startswith("p") and after_part.startswith("a")):
            raise ValueError
        return int(page_part[1:]), int(after_part[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(f"Invalid PageToken: {token!r}", CODE_INVALID_PARAMETER) from None


def parse_list_query(query: Mapping[str, str]) -> ListQuery:
    """Check ``Channel``, ``PageSize`` and ``PageToken``; raises an ApiProblem naming the first bad one."""
    channel = query.get("Channel")
    if not channel:
        raise invalid("Missing required parameter Channel", CODE_INVALID_PARAMETER)
    if channel not in CHANNELS:
        raise invalid(f"Invalid Channel {channel!r}: supported values are whatsapp and rcs", CODE_INVALID_PARAMETER)
    return _paged(channel, query, DEFAULT_PAGE_SIZE)


def parse_v1_query(query: Mapping[str, str]) -> ListQuery:
    """Check ``PageSize`` (50 by default) and ``PageToken`` of a Messaging v1 list; ``Page`` is the client's own
    (the spec: "simply for client state"), so the page number comes from the token, as for v2."""
    return _paged(None, query, V1_DEFAULT_PAGE_SIZE)


def _paged(channel: str | None, query: Mapping[str, str], default_size: int) -> ListQuery:
    size_text = query.get("PageSize")
    if size_text is None:
        page_size = default_size
    else:
        try:
            page_size = int(size_text)
        except ValueError:
            raise invalid(f"Invalid PageSize {size_text!r}: must be an integer", CODE_INVALID_PARAMETER) from None
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise invalid(f"Invalid PageSize {page_size}: must be between 1 and {MAX_PAGE_SIZE}", CODE_INVALID_PARAMETER)
    token = query.get("PageToken") or None
    page, after = decode_token(token) if token else (0, None)
    return ListQuery(channel, page_size, page, after)


def page_bounds(seqs: list[int], after: int | None, page_size: int) -> tuple[int, int | None, int | None]:
    """Where the page after sequence number ``after`` starts in ``seqs`` (ascending), and its neighbours.

    Returns ``(start, next_after, previous_after)`` with the meaning of
    :meth:`~reconciler.emulator.store.SenderStore.page`: ``next_after`` None on the last page,
    ``previous_after`` -1 when the previous page is the first and None on the first page.
    """
    start = 0 if after is None else bisect.bisect_right(seqs, after)
    next_after = seqs[start + page_size - 1] if start + page_size < len(seqs) else None
    previous_after: int | None = None
    if start > 0:
        prev_start = max(0, start - page_size)
        previous_after = -1 if prev_start == 0 else seqs[prev_start - 1]
    return start, next_after, previous_after


def page_meta(
    base: str, query: ListQuery, next_after: int | None, previous_after: int | None, *, key: str = "senders"
) -> dict[str, Any]:
    """The ``meta`` of a page; ``base`` is the list endpoint's absolute URL, ``key`` the list's key in the body.

    ``next_after``/``previous_after`` as :meth:`~reconciler.emulator.store.SenderStore.page` returns them.
    """

    def url(page_no: int, after_seq: int | None) -> str:
        params: dict[str, Any] = {} if query.channel is None else {"Channel": query.channel}
        params.update(PageSize=query.page_size, Page=page_no)
        if after_seq is not None:
            params["PageToken"] = encode_token(page_no, after_seq)
        return f"{base}?{urlencode(params)}"

    page = query.page
    return {
        "page": page,
        "page_size": query.page_size,
        "first_page_url": url(0, None),
        "previous_page_url": (
            None if previous_after is None else url(max(page - 1, 0), None if previous_after < 0 else previous_after)
        ),
        "url": url(page, query.after),
        "next_page_url": None if next_after is None else url(page + 1, next_after),
        "key": key,
    }
