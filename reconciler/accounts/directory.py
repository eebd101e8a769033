"""Twilio's v2010 REST API on an account: reading it (the Accounts resource) and proving whose credentials are whose.

v2 URLs carry no account SID: the credentials alone pick the account. A subaccount's senders need the
subaccount's own credentials, which the parent reads from ``GET /2010-04-01/Accounts/{Sid}.json`` (its
``auth_token``): :func:`look_up` does that read, with the token kept out of every ``repr`` and message.

v2010 paths do name an account, and Twilio answers a path only for the credentials' own account (or, for
a parent's, one of its subaccounts): :func:`reaches` asks whether credentials reach an account's path,
with a one-item list any key may read, which is how an API key's account is proven. :class:`V2010` gathers
these answers for one set of credentials over one connection (:meth:`V2010.reach`); what they prove is
decided in :mod:`reconciler.accounts.reach`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.auth import Credentials
from reconciler.client import RetryPolicy, SendersClient
from reconciler.errors import AccountError, ApiError, CredentialsError
from reconciler.models import ACCOUNT_SID
from reconciler.text import clip, escape_control

ACCOUNTS_PATH = "/2010-04-01/Accounts"
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
