"""Twilio's v2010 REST API on an account: reading it (the Accounts resource) and proving whose credentials are whose.

v2 URLs carry no account SID: the credentials alone pick the account. A subaccount's senders need the
subaccount's own credentials, which the parent reads from ``GET /2010-04-01/Accounts/{Sid}.json`` (its
``auth_token``): :func:`look_up` does that read, with the token kept out of every ``repr`` and message.
A run that names more than :data:`ONE_BY_ONE` accounts reads them from the list instead,
``GET /2010-04-01/Accounts.json?PageSize=1000`` (:class:`Lookups`): one request per 1,000 accounts.

v2010 paths do name an account, and Twilio answers a path only for the credentials' own account (or, for
a parent's, one of its subaccounts): :func:`reaches` asks whether credentials reach an account's path,
with a one-item list any key may read, which is how an API key's account is proven. :class:`V2010` gathers
these answers for one set of credentials over one connection (:meth:`V2010.reach`); what they prove is
decided in :mod:`reconciler.accounts.reach`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reconciler.auth import Credentials, same_origin, shown_url
from reconciler.client import RetryPolicy, SendersClient
from reconciler.errors import AccountError, ApiError, CredentialsError
from reconciler.models import ACCOUNT_SID
from reconciler.text import clip, escape_control

ACCOUNTS_PATH = "/2010-04-01/Accounts"
LIST_PATH = ACCOUNTS_PATH + ".json"
#: Accounts a page of the list holds at most (Twilio's largest ``PageSize``).
LIST_PAGE_SIZE = 1000
#: Pages of the list read at most: a million accounts.
MAX_LIST_PAGES = 1000
#: Accounts a run reads one by one, each with ``GET /2010-04-01/Accounts/{Sid}.json``; past it, from the list.
#: 12 is where the parent's client starts its limit (``limiter.INITIAL_LIMIT``): that many reads leave at once
#: and are answered in one round trip, each small (about 1.3 KB), and each account's senders are read as soon
#: as its own answer is in. A 13th would wait for a second round trip, while one page of the list answers
#: up to 1,000 (about 1.3 MB) in one, and costs the parent's rate limit one request instead of N.
ONE_BY_ONE = 12
#: A list every kind of key may read (Standard keys may not read the Accounts resource itself), scoped to one account.
PROBE_PATH = ACCOUNTS_PATH + "/{sid}/IncomingPhoneNumbers.json?PageSize=1"
#: Answers that mean "not these credentials' account": refused (401, 403) or not found for them (404).
NOT_REACHED = (401, 403, 404)

API_BASE_HINT = (
    "set TWILIO_API_BASE_URL (or --api-base-url) to where the Accounts resource is: with --base-url or "
    "TWILIO_MESSAGING_BASE_URL off Twilio's hosts, it is not taken to be api.twilio.com"
)


@dataclass(frozen=True)
class AccountRecord:
    """An account as the Accounts resource reports it."""

    sid: str
    friendly_name: str | None
    status: str | None
    owner_account_sid: str | None
    auth_token: str | None = field(default=None, repr=False)

    def credentials(self) -> Credentials | None:
        return Credentials(self.sid, self.auth_token, self.sid) if self.auth_token else None


async def look_up(api: SendersClient, account_sid: str, *, key: bool = False) -> AccountRecord:
    """The account ``account_sid`` as the credentials of ``api`` see it; :class:`AccountError` when they cannot.

    ``key``: the credentials are an API key (proven to be the reader's own), which words a refusal.
    """
    if not ACCOUNT_SID.match(account_sid):
        raise AccountError(f"account {escape_control(account_sid)[:40]!r} is not an account SID")
    try:
        body = await api.get_json(f"{ACCOUNTS_PATH}/{account_sid}.json")
    except ApiError as exc:
        raise account_error(account_sid, exc, key=key) from None
    return _record(account_sid, body)


def _record(account_sid: str, body: Any) -> AccountRecord:
    if not isinstance(body, dict) or body.get("sid") != account_sid:
        raise AccountError(f"account {account_sid}: the Accounts resource answered with something that is not this account")

    def text(name: str) -> str | None:
        value = body.get(name)
        return value if isinstance(value, str) and value else None

    name = text("friendly_name")
    return AccountRecord(account_sid, clip(escape_control(name), 80) if name else None, text("status"),
                         text("owner_account_sid"), text("auth_token"))


def not_listed(account_sid: str, *, key: bool) -> AccountError:
    """An account the list does not hold: what a 404 of its own read says."""
    return account_error(account_sid, ApiError("not in the Accounts list", status=404), key=key)


def account_error(account_sid: str, error: ApiError, *, key: bool) -> AccountError:
    """A failed read of an account, said for the account and for the kind of credentials that read it.

    The reader's own account is proven before any look-up, so its credentials are right: a refusal is
    about what they may read.
    """
    if error.status == 404:
        why = "not found with the credentials in use: it is neither their account nor one of its subaccounts"
    elif error.status in (401, 403) and key:
        why = (f"the API key in use may not read the Accounts resource (HTTP {error.status}; a Standard key cannot): "
               "use the parent's auth token or a Main API key, or give the account's own credentials, see docs/accounts.md")
    elif error.status in (401, 403):
        why = (f"the auth token in use was refused (HTTP {error.status}{f' / Twilio {error.code}' if error.code else ''}): "
               "it is wrong, or not the token of the account its SID names")
    else:
        why = f"cannot be read: {error}"
    return AccountError(f"account {account_sid}: {why}")


def check_active(record: AccountRecord) -> None:
    if record.status not in (None, "active"):
        raise AccountError(f"account {record.sid}: its status is {escape_control(record.status)[:20]}, not active")


async def listed(api: SendersClient, page_size: int = LIST_PAGE_SIZE) -> AsyncIterator[list[AccountRecord]]:
    """The accounts the credentials of ``api`` may read (for a parent's: itself and its subaccounts), a page of
    up to 1,000 at a time, following ``next_page_uri`` (relative to the API's host, as v2010 writes it).

    :class:`ApiError` when a page cannot be read; :class:`AccountError` for a list that does not end (a page
    seen twice, an empty page that links on, more than :data:`MAX_LIST_PAGES`) or a next page elsewhere.
    """
    uri: str | None = f"{LIST_PATH}?PageSize={page_size}"
    seen: set[str] = set()
    while uri is not None:
        if uri in seen or len(seen) >= MAX_LIST_PAGES:
            why = "the same page twice" if uri in seen else f"more than {MAX_LIST_PAGES} pages"
            raise AccountError(f"the Accounts list goes on with {why} ({escape_control(shown_url(uri))[:200]}): "
                               "refusing to read on")
        seen.add(uri)
        items, uri = _list_page(await api.get_json(uri), api.base_url)
        yield [_record(item["sid"], item) for item in items]


def _list_page(body: Any, base_url: str) -> tuple[list[dict[str, Any]], str | None]:
    """The accounts of a page of the list (objects with an account SID; Twilio sends nothing else), and the
    next page's URI: None at the end."""
    accounts = body.get("accounts") if isinstance(body, dict) else None
    if not isinstance(accounts, list):
        raise AccountError("the Accounts resource answered its list with something that is not a page of accounts")
    items = [a for a in accounts if isinstance(a, dict) and isinstance(a.get("sid"), str) and ACCOUNT_SID.match(a["sid"])]
    following = body.get("next_page_uri")
    if following is None or following == "":
        return items, None
    if not isinstance(following, str) or not same_origin(following, base_url) or urlsplit(following).path != LIST_PATH:
        shown = escape_control(shown_url(following))[:200] if isinstance(following, str) else "not a URI"
        raise AccountError(f"the Accounts list's next_page_uri leads away from {LIST_PATH} on {base_url} ({shown}): "
                           "refusing to send the credentials there")
    if not accounts:
        raise AccountError("the Accounts list answered an empty page that links to a next page")
    return items, following


class Lookups:
    """The records of the accounts a run names, read with one set of credentials (the parent's): each with its
    own read (:func:`look_up`) when they are :data:`ONE_BY_ONE` or fewer, else from the list (:func:`listed`),
    read once for all of them and only as far as the page that holds the last one named.

    Either way an account gets the same answer and the same refusal: a token the list gives is the one its
    own read would give, an account the list does not hold is a 404, a refused list is each account's refusal
    (:func:`account_error`). Only the records of the accounts named are kept.
    """

    def __init__(self, api: SendersClient, wanted: Iterable[str], *, key: bool, page_size: int = LIST_PAGE_SIZE):
        self.api, self.key, self.page_size = api, key, page_size
        self.wanted = frozenset(wanted)
        self.paged = len(self.wanted) > ONE_BY_ONE
        self._outcomes: dict[str, AccountRecord | AccountError] = {}
        self._page: asyncio.Event | None = None  # set, and replaced, as each page's answers are handed out
        self._reading: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lookups:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reading is not None:  # a read no account waits for any more (one failed, or the run stops)
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)

    async def look_up(self, sid: str) -> AccountRecord:
        """:func:`look_up`, or the same answer from the list."""
        if not self.paged or sid not in self.wanted:
            return await look_up(self.api, sid, key=self.key)
        if self._page is None:
            self._page = asyncio.Event()
            self._reading = asyncio.get_running_loop().create_task(self._read())
        while sid not in self._outcomes:
            await self._page.wait()
        outcome = self._outcomes[sid]
        if isinstance(outcome, AccountError):
            raise AccountError(str(outcome))  # a copy: each account raises its own
        return outcome

    async def record_or_none(self, sid: str) -> AccountRecord | None:
        """The account's record (for its friendly name), or None when these credentials may not read it."""
        try:
            return await self.look_up(sid)
        except AccountError:
            return None

    async def _read(self) -> None:
        """The list's pages until every account named is found; each page's answers handed out as it comes."""
        missing = set(self.wanted)
        failed: dict[str, AccountError] = {}
        try:
            async for page in listed(self.api, self.page_size):
                for record in page:
                    if record.sid in missing:
                        missing.discard(record.sid)
                        self._outcomes[record.sid] = record
                self._turn()
                if not missing:
                    return
            failed = {sid: not_listed(sid, key=self.key) for sid in missing}
        except ApiError as exc:
            failed = {sid: account_error(sid, exc, key=self.key) for sid in missing}
        except AccountError as exc:
            failed = {sid: AccountError(f"account {sid}: {exc}") for sid in missing}
        finally:  # whatever ended the read (cancelled, too), no account waits for it any more
            self._outcomes.update({sid: failed.get(sid) or AccountError(f"account {sid}: the Accounts list was not "
                                                                        "read to its end") for sid in missing})
            self._turn()

    def _turn(self) -> None:
        """Wake every account waiting for its answer: the page's are in."""
        page, self._page = self._page, asyncio.Event()
        if page is not None:
            page.set()


async def reaches(api: SendersClient, account_sid: str) -> ApiError | None:
    """Whether the credentials of ``api`` reach ``account_sid``'s v2010 resources: None when they do, the
    refusal when Twilio answers they do not (401, 403, 404). Any other failure (the network, a 5xx after
    the retries) is raised: it proves nothing either way."""
    try:
        await api.get_json(PROBE_PATH.format(sid=account_sid))
    except ApiError as exc:
        if exc.status in NOT_REACHED:
            return exc
        raise
    return None


async def record_or_none(api: SendersClient, sid: str, *, key: bool) -> AccountRecord | None:
    """The account's record (for its friendly name), or None when these credentials may not read it."""
    try:
        return await look_up(api, sid, key=key)
    except AccountError:
        return None


async def owner_above(api: SendersClient, sid: str) -> str | None:
    """The account that owns ``sid`` when ``sid`` is a subaccount and these credentials may read its record (a
    Main key may; a Standard key may not, and then nothing more can be learnt); None otherwise."""
    record = await record_or_none(api, sid, key=True)
    owner = record.owner_account_sid if record else None
    return owner if owner != sid else None


@dataclass(frozen=True)
class Reach:
    """What one set of credentials reaches, as Twilio answered: ``refusal`` is None when they reach the account
    asked about; ``above`` is the account above it that was asked about too (its owner, when known or readable),
    and ``reaches_above`` whether they reach that one as well."""

    refusal: ApiError | None
    above: str | None = None
    reaches_above: bool = False


@dataclass(frozen=True)
class V2010:
    """Where Twilio's v2010 API is, and how to read it: a client per set of credentials, on request."""

    base_url: str | None
    retry: RetryPolicy
    concurrency: int

    def client(self, credentials: Credentials, why: str) -> SendersClient:
        """A client of the v2010 API with ``credentials``; :class:`CredentialsError` saying ``why`` it was needed when
        where the API is cannot be known."""
        if self.base_url is None:
            raise CredentialsError(f"{why}: {API_BASE_HINT}")
        return SendersClient(credentials, base_url=self.base_url, retry=self.retry, concurrency=self.concurrency)

    async def reaches(self, credentials: Credentials, sid: str, *, why: str) -> ApiError | None:
        """:func:`reaches`, over a connection of its own."""
        async with self.client(credentials, why) as api:
            return await reaches(api, sid)

    async def reach(self, credentials: Credentials, sid: str, *, owner: str | None, why: str) -> Reach:
        """Whether ``credentials`` reach ``sid`` and, when they do, the account above it: ``owner`` when it is known
        for certain, else the owner its record names when they may read it. One connection for every request."""
        async with self.client(credentials, why) as api:
            refusal = await reaches(api, sid)
            if refusal is not None:
                return Reach(refusal)
            above = owner if owner is not None else await owner_above(api, sid)
            return Reach(None, above, above is not None and await reaches(api, above) is None)
