"""What the Senders API answered, read with no trust in its shape: every surprise is one ApiError.

Pure functions on decoded JSON (no HTTP library): list pages (``senders``, ``meta``,
``meta.next_page_url``), senders, Twilio's error bodies and ``Retry-After``. Every string the API
sent reaches a message only escaped to one printable line (:func:`reconciler.text.escape_control`).

>>> page_parts({"senders": [], "meta": "oops"}, "/v2/Channels/Senders")
Traceback (most recent call last):
...
reconciler.errors.ApiError: the list response has a 'meta' that is a string, not an object (GET /v2/Channels/Senders)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from pydantic import ValidationError

from reconciler.errors import ApiError
from reconciler.models import LiveSender
from reconciler.text import clip, escape_control

#: Pages allowed beyond what the API's count of senders fills: senders may be created while the list is read.
PAGE_MARGIN = 2


def kind_of(value: object) -> str:
    """What a JSON value is, in words: ``a string``, ``a list``, ``null`` ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def is_count(value: object) -> TypeGuard[int]:
    """A JSON integer ≥ 0 (``true`` is no count)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def page_parts(body: Any, shown_url: str) -> tuple[list[Any], dict[str, Any], str | None]:
    """A list response's ``senders``, ``meta`` and ``meta.next_page_url`` (None at the end), checked for type."""

    def wrong(what: str) -> ApiError:
        return ApiError(f"the list response {what}", method="GET", url=shown_url)

    if not isinstance(body, dict):
        raise wrong(f"is {kind_of(body)}, not an object")
    page = body.get("senders")
    if not isinstance(page, list):
        raise wrong("has no 'senders' array")
    meta = body.get("meta")
    if meta is None:
        return page, {}, None
    if not isinstance(meta, dict):
        raise wrong(f"has a 'meta' that is {kind_of(meta)}, not an object")
    next_url = meta.get("next_page_url")
    if next_url is None or next_url == "":
        return page, meta, None
    if not isinstance(next_url, str):
        raise wrong(f"has a meta.next_page_url that is {kind_of(next_url)}, not a URL")
    return page, meta, next_url


def page_limit(meta: Mapping[str, Any], page_size: int, most: int) -> tuple[int, str] | None:
    """The pages a list may have when ``meta`` counts the senders (``total``), and why; None when it does not.

    >>> page_limit({"total": 2500, "page_size": 1000}, 1000, 10_000)[0]
    5
    """
    total, size = meta.get("total"), meta.get("page_size")
    if not is_count(total):
        return None
    per_page = size if is_count(size) and size > 0 else max(page_size, 1)
    pages = min(math.ceil(total / per_page) + PAGE_MARGIN, most)
    return pages, f"{pages} pages, which {total} senders at {per_page} a page fill with a margin of {PAGE_MARGIN}"


def live_sender(item: Any, index: int | None = None, page: int | None = None) -> LiveSender:
    """A sender of the API's answer (``senders[index]`` of page ``page`` of a list), or one line saying why not."""
    if isinstance(item, dict):
        try:
            return LiveSender.model_validate(item)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(the sender)'}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)
            )
        except (TypeError, ValueError) as exc:
            problems = str(exc)
    else:
        problems = f"it is {kind_of(item)}, not an object"
    raise _unreadable(item, problems, index, page)


def _unreadable(item: Any, problems: str, index: int | None, page: int | None) -> ApiError:
    """Names the sender by its sender_id, else its sid, else its place in the list."""
    fields = item if isinstance(item, dict) else {}
    sender_id, sid = fields.get("sender_id"), fields.get("sid")
    who = clip(escape_control(sender_id), 80) if isinstance(sender_id, str) and sender_id else None
    if who:
        where = ""
    elif isinstance(sid, str) and sid:
        where = f" (sid {clip(escape_control(sid), 80)})"
    elif index is not None:
        where = f" (senders[{index}] on page {page})"
    else:
        where = ""
    return ApiError(f"the API returned a sender this tool cannot read{where}: {clip(escape_control(problems))}", sender_id=who)


def senders_from_pages(pages: Iterable[bytes]) -> list[LiveSender]:
    """The senders of list pages as the API sent them (``SendersClient.read_pages``), in order."""
    senders: list[LiveSender] = []
    for number, raw in enumerate(pages, 1):
        try:
            items = json.loads(raw)["senders"]
        except (ValueError, RecursionError, TypeError, KeyError):
            raise ApiError(f"page {number} of the list is not a list response") from None
        if not isinstance(items, list):
            raise ApiError(f"page {number} of the list has no 'senders' array")
        senders.extend(live_sender(item, index, number) for index, item in enumerate(items))
    return senders


def error_fields(content: bytes) -> tuple[int | None, str | None, str | None]:
    """Twilio's ``code``, ``message`` and ``more_info`` from an error body, each None when absent or mistyped."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return None, None, None
    if not isinstance(body, dict):
        return None, None, None
    code, message, more_info = body.get("code"), body.get("message"), body.get("more_info")
    return (
        code if is_count(code) else None,
        clip(escape_control(message)) if isinstance(message, str) and message else None,
        clip(escape_control(more_info)) if isinstance(more_info, str) and more_info else None,
    )


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; None for none, an HTTP date (rare) or nonsense (``nan``, ``inf``)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None
