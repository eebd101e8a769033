"""The v2010 Accounts resource as Twilio shows it: an account, a list page, its query. No HTTP here.

    query = parse_accounts_query({"PageSize": "2", "Status": "active"})
    body = accounts_page(visible_accounts, query, accounts.dates)   # {"accounts": [...], "next_page_uri": ...}
    text = accounts_page_json(visible_accounts, query, accounts.dates)  # the same, as the server sends it

URIs are relative to the API's host, as v2010 writes them; dates are RFC 2822. Page tokens are the
emulator's own (the index the page starts at), opaque to clients as Twilio's are. An account's JSON is
encoded once and kept until the account or its dates change: a page of 1,000 accounts (2.2 MB) took 130 ms
to render and encode, the client's whole plan of 1,000 subaccounts waiting for it.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from reconciler.emulator.accounts import STATUSES, EmulatorAccount
from reconciler.emulator.records import dumps
from reconciler.emulator.validation import CODE_INVALID_PARAMETER, CODE_NOT_FOUND, ApiProblem, invalid

ACCOUNTS_PATH = "/2010-04-01/Accounts.json"
ACCOUNT_PATH = "/2010-04-01/Accounts/{Sid}.json"
#: An account-scoped list: the emulator has no phone numbers, so its pages are empty; what it answers is whether
#: the credentials reach the account (their own, or for a parent's, a subaccount), as every v2010 path does.
NUMBERS_PATH = "/2010-04-01/Accounts/{Sid}/IncomingPhoneNumbers.json"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
#: What ``subresource_uris`` lists, as in Twilio's examples (twilio-oai, twilio_api_v2010.yaml).
SUBRESOURCES = {
    "available_phone_numbers": "AvailablePhoneNumbers", "calls": "Calls", "conferences": "Conferences",
    "incoming_phone_numbers": "IncomingPhoneNumbers", "notifications": "Notifications",
    "outgoing_caller_ids": "OutgoingCallerIds", "recordings": "Recordings", "transcriptions": "Transcriptions",
    "addresses": "Addresses", "signing_keys": "SigningKeys", "connect_apps": "ConnectApps", "sip": "SIP",
    "authorized_connect_apps": "AuthorizedConnectApps", "usage": "Usage", "keys": "Keys",
    "applications": "Applications", "short_codes": "SMS/ShortCodes", "queues": "Queues", "messages": "Messages",
    "balance": "Balance",
}  # fmt: skip

Dates = Callable[[str], tuple[float, float]]


@dataclass(frozen=True)
class AccountsQuery:
    """A checked list request: ``start`` is the index of the page's first account."""

    friendly_name: str | None
    status: str | None
    page_size: int
    page: int
    start: int


def rfc2822(epoch: float) -> str:
    """``Thu, 30 Jul 2015 20:00:00 +0000``, as v2010 writes dates."""
    return formatdate(int(epoch), usegmt=False).replace("-0000", "+0000")


def account_uri(sid: str) -> str:
    return ACCOUNT_PATH.format(Sid=sid)


def render_account(account: EmulatorAccount, dates: Dates) -> dict[str, Any]:
    """One account as ``GET /2010-04-01/Accounts/{Sid}.json`` shows it, ``auth_token`` included."""
    created, updated = dates(account.sid)
    base = f"/2010-04-01/Accounts/{account.sid}"
    return {
        "auth_token": account.auth_token,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(updated),
        "friendly_name": account.friendly_name,
        "owner_account_sid": account.owner_account_sid,
        "sid": account.sid,
        "status": account.status,
        "subresource_uris": {name: f"{base}/{path}.json" for name, path in SUBRESOURCES.items()},
        "type": "Full",
        "uri": account_uri(account.sid),
    }


def numbers_page(account_sid: str, query: Mapping[str, str]) -> dict[str, Any]:
    """An empty page of an account's incoming phone numbers, with v2010's paging fields."""
    size = _integer(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    uri = f"{NUMBERS_PATH.format(Sid=account_sid)}?{urlencode({'PageSize': size, 'Page': 0})}"
    return {"incoming_phone_numbers": [], "end": 0, "first_page_uri": uri, "next_page_uri": None, "page": 0,
            "page_size": size, "previous_page_uri": None, "start": 0, "uri": uri}


def not_found(path: str) -> ApiProblem:
    return ApiProblem(404, CODE_NOT_FOUND, f"The requested resource {path} was not found")


def _token(start: int) -> str:
    return "PT" + base64.urlsafe_b64encode(f"start:{start}".encode()).decode().rstrip("=")


def _start_of(token: str) -> int:
    try:
        if not token.startswith("PT"):
            raise ValueError
        raw = base64.urlsafe_b64decode(token[2:] + "=" * (-len(token[2:]) % 4)).decode()
        label, _, number = raw.partition(":")
        if label != "start" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(f"Invalid PageToken: {token!r}", CODE_INVALID_PARAMETER) from None


def _integer(query: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid(f"Invalid {name} {text!r}: must be an integer", CODE_INVALID_PARAMETER) from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(f"Invalid {name} {value}: must be {bounds}", CODE_INVALID_PARAMETER)
    return value


def parse_accounts_query(query: Mapping[str, str]) -> AccountsQuery:
    """Check ``FriendlyName``, ``Status``, ``PageSize``, ``Page`` and ``PageToken``: a 400 / 20001 for a bad one."""
    status = query.get("Status") or None
    if status is not None and status not in STATUSES:
        raise invalid(f"Invalid Status {status!r}: must be one of {', '.join(STATUSES)}", CODE_INVALID_PARAMETER)
    page_size = _integer(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _integer(query, "Page", 0, 0, None)
    token = query.get("PageToken") or None
    start = _start_of(token) if token else page * page_size
    return AccountsQuery(query.get("FriendlyName") or None, status, page_size, page, start)


def accounts_page(accounts: list[EmulatorAccount], query: AccountsQuery, dates: Dates) -> dict[str, Any]:
    """The list body: the page of the accounts that pass the filters, and v2010's paging fields."""
    page, fields = _paged(accounts, query)
    return {"accounts": [render_account(a, dates) for a in page], **fields}


def accounts_page_json(accounts: list[EmulatorAccount], query: AccountsQuery, dates: Dates) -> str:
    """:func:`accounts_page` as JSON text, each account's from its kept encoding."""
    page, fields = _paged(accounts, query)
    encoded = ",".join(_account_json(a, *dates(a.sid)) for a in page)
    return '{"accounts":[' + encoded + "]," + dumps(fields)[1:]


@functools.lru_cache(maxsize=100_000)
def _account_json(account: EmulatorAccount, created: float, updated: float) -> str:
    return dumps(render_account(account, lambda _: (created, updated)))


def _paged(accounts: list[EmulatorAccount], query: AccountsQuery) -> tuple[list[EmulatorAccount], dict[str, Any]]:
    """The page of the accounts that pass the filters, and v2010's paging fields."""
    chosen = [
        a for a in accounts
        if (query.friendly_name is None or a.friendly_name == query.friendly_name)
        and (query.status is None or a.status == query.status)
    ]  # fmt: skip
    start, size = query.start, query.page_size
    page = chosen[start : start + size]

    def uri(page_no: int, first: int | None) -> str:
        params: dict[str, Any] = {}
        if query.friendly_name is not None:
            params["FriendlyName"] = query.friendly_name
        if query.status is not None:
            params["Status"] = query.status
        params.update(PageSize=size, Page=page_no)
        if first:
            params["PageToken"] = _token(first)
        return f"{ACCOUNTS_PATH}?{urlencode(params)}"

    return page, {
        "end": start + len(page) - 1 if page else start,
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(query.page + 1, start + size) if start + size < len(chosen) else None,
        "page": query.page,
        "page_size": size,
        "previous_page_uri": uri(max(query.page - 1, 0), max(start - size, 0)) if start > 0 else None,
        "start": start,
        "uri": uri(query.page, start),
    }
