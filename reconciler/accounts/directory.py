"""Twilio's v2010 REST API on an account: reading it (the Accounts resource) and proving whose credentials are whose.

v2 URLs carry no account SID: the credentials alone pick the account. A subaccount's senders need the
subaccount's own credentials, which the parent reads from ``GET /2010-04-01/Accounts/{Sid}.json`` (its
``auth_token``): :func:`look_up` does that read, with the token kept out of every ``repr`` and message.

v2010 paths do name an account, and Twilio answers a path only for the credentials' own account (or, for
a parent's, one of its subaccounts): :func:`reaches` asks whether credentials reach an account's path,
with a one-item list any key may read, which is how an API key's account is proven.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.auth import Credentials
from reconciler.client import SendersClient
from reconciler.errors import AccountError, ApiError
from reconciler.models import ACCOUNT_SID
from reconciler.text import clip, escape_control

ACCOUNTS_PATH = "/2010-04-01/Accounts"
#: A list every kind of key may read (Standard keys may not read the Accounts resource itself), scoped to one account.
PROBE_PATH = ACCOUNTS_PATH + "/{sid}/IncomingPhoneNumbers.json?PageSize=1"
#: Answers that mean "not these credentials' account": refused (401, 403) or not found for them (404).
NOT_REACHED = (401, 403, 404)


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
