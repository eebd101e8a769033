"""Which account a run reaches, and with what: the v2010 Accounts resource, read with the parent's credentials.

v2 URLs carry no account SID: the credentials alone pick the account. A subaccount's senders need the
subaccount's own credentials, which the parent reads from ``GET /2010-04-01/Accounts/{Sid}.json``
(its ``auth_token``). :func:`look_up` does that read and returns what it found, with the token kept
out of every ``repr`` and message; :func:`account_error` words a refusal for the account it is about.
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


async def look_up(api: SendersClient, account_sid: str) -> AccountRecord:
    """The account ``account_sid`` as the credentials of ``api`` see it; :class:`AccountError` when they cannot."""
    if not ACCOUNT_SID.match(account_sid):
        raise AccountError(f"account {escape_control(account_sid)[:40]!r} is not an account SID")
    try:
        body = await api.get_json(f"{ACCOUNTS_PATH}/{account_sid}.json")
    except ApiError as exc:
        raise account_error(account_sid, exc) from None
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


def account_error(account_sid: str, error: ApiError) -> AccountError:
    """A failed read of an account, said for the account (and why the credentials may not reach it)."""
    if error.status == 404:
        why = "not found with the credentials in use: it is neither their account nor one of its subaccounts"
    elif error.status in (401, 403):
        why = ("the credentials in use cannot read the Accounts resource (a standard API key cannot: use the parent's "
               "auth token, a Main API key, or give the account's own credentials, see docs/accounts.md)")
    else:
        why = f"cannot be read: {error}"
    return AccountError(f"account {account_sid}: {why}")


def check_active(record: AccountRecord) -> None:
    if record.status not in (None, "active"):
        raise AccountError(f"account {record.sid}: its status is {escape_control(record.status)[:20]}, not active")
