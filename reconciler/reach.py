"""Which accounts a run reaches, with which credentials, and reading them side by side.

The environment's credentials are the parent's. An account a file names is reached with, in order:

1. the parent's own credentials, when it is the parent (``TWILIO_ACCOUNT_SID``);
2. its own credentials from the environment (:func:`reconciler.auth.account_credentials`);
3. its auth token, read from the Accounts resource with the parent's credentials.

Friendly names are read only in a run that names another account than the parent, so a run of one
account makes no request beyond the Senders API. Accounts are resolved and read ``concurrency`` at
a time; a token read here lives in memory only, in a :class:`~reconciler.auth.Credentials`, whose
``repr`` hides it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.accounts import AccountRef
from reconciler.auth import Credentials, account_credentials
from reconciler.client import RetryPolicy, SendersClient
from reconciler.directory import AccountRecord, check_active, look_up
from reconciler.errors import AccountError, ApiError, CredentialsError, ReconcilerError

_T = TypeVar("_T")
_U = TypeVar("_U")

API_BASE_HINT = (
    "set TWILIO_API_BASE_URL (or --api-base-url) to where the Accounts resource is: with --base-url or "
    "TWILIO_MESSAGING_BASE_URL off Twilio's hosts, it is not taken to be api.twilio.com"
)


@dataclass(frozen=True)
class Reached:
    """An account and the credentials that reach it; ``variables`` names where they came from (for a 401)."""

    account: AccountRef
    credentials: Credentials = field(repr=False)
    variables: tuple[str, ...] = ()


@dataclass
class Parent:
    """The environment's credentials (or why there are none) and the account they belong to."""

    credentials: Credentials | None
    error: ReconcilerError | None = None
    variables: tuple[str, ...] = ()

    @property
    def sid(self) -> str | None:
        return self.credentials.account_sid if self.credentials is not None else None

    def require(self) -> Credentials:
        if self.credentials is None:
            raise self.error or CredentialsError("no Twilio credentials")
        return self.credentials


async def gather_bounded(items: Sequence[_T], work: Callable[[_T], Awaitable[_U]], limit: int) -> list[_U]:
    """``work`` on every item, at most ``limit`` at once, results in order; the first failure is raised
    once every item has finished (one account's failure does not cut the others short)."""
    gate = asyncio.Semaphore(max(limit, 1))

    async def one(item: _T) -> _U:
        async with gate:
            return await work(item)

    results = await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        cancelled = [f for f in failures if isinstance(f, asyncio.CancelledError)]
        raise cancelled[0] if cancelled else _combined(failures)
    return [r for r in results if not isinstance(r, BaseException)]


def _combined(failures: list[BaseException]) -> BaseException:
    if len(failures) == 1 or not all(isinstance(f, ReconcilerError) for f in failures):
        return failures[0]
    return AccountError("; ".join(str(f) for f in failures))


class Resolver:
    """Finds the credentials of each account a run names (see the module's docstring)."""

    def __init__(self, parent: Parent, *, api_base_url: str | None, retry: RetryPolicy,
                 environ: Mapping[str, str] | None, concurrency: int):
        self.parent = parent
        self.api_base_url = api_base_url
        self.retry = retry
        self.environ = environ
        self.concurrency = concurrency

    def _directory(self) -> SendersClient:
        if self.api_base_url is None:
            raise CredentialsError(API_BASE_HINT)
        return SendersClient(self.parent.require(), base_url=self.api_base_url, retry=self.retry,
                             concurrency=self.concurrency)

    async def each(self, sids: Sequence[str | None], work: Callable[[Reached], Awaitable[_U]],
                   ) -> list[tuple[Reached, _U]]:
        """Each account reached, then ``work`` done with it, ``concurrency`` accounts at a time: an account's
        work starts as soon as its credentials are known, while others are still being looked up.
        :class:`AccountError` names every account out of reach."""
        others = [sid for sid in sids if sid is not None and sid != self.parent.sid]
        if not others:
            return await gather_bounded([self._parent(sid) for sid in sids], lambda who: _paired(who, work),
                                        self.concurrency)
        async with self._directory() as directory:
            async def one(sid: str | None) -> tuple[Reached, _U]:
                return await _paired(await self._one(directory, sid), work)

            return await gather_bounded(list(sids), one, self.concurrency)

    def _parent(self, sid: str | None, name: str | None = None) -> Reached:
        return Reached(AccountRef(sid or self.parent.sid, name), self.parent.require(), self.parent.variables)

    async def _one(self, directory: SendersClient, sid: str | None) -> Reached:
        if sid is None or sid == self.parent.sid:
            record = await _best_effort(directory, self.parent.sid)
            return self._parent(sid, record.friendly_name if record else None)
        own = account_credentials(sid, self.environ)
        if own is not None:
            record = await _best_effort(directory, sid)
            return Reached(AccountRef(sid, record.friendly_name if record else None), own[0], (own[1],))
        record = await look_up(directory, sid)
        check_active(record)
        if record.owner_account_sid not in (None, self.parent.sid) and self.parent.sid is not None:
            raise AccountError(f"account {sid}: it belongs to {record.owner_account_sid}, not to {self.parent.sid}")
        credentials = record.credentials()
        if credentials is None:
            raise AccountError(f"account {sid}: the Accounts resource gave no auth token for it; give its own "
                               f"credentials (TWILIO_AUTH_TOKEN_{sid}, see docs/accounts.md)")
        return Reached(AccountRef(sid, record.friendly_name), credentials, ())


async def _paired(who: Reached, work: Callable[[Reached], Awaitable[_U]]) -> tuple[Reached, _U]:
    return who, await work(who)


async def _best_effort(directory: SendersClient, sid: str | None) -> AccountRecord | None:
    """The account's record for its friendly name, or None when these credentials may not read it."""
    if sid is None:
        return None
    try:
        return await look_up(directory, sid)
    except AccountError:
        return None


def explained(error: BaseException, reached: Reached, several: bool) -> BaseException:
    """An API error during an account's work, said for that account (in a run of several) and, for a
    refusal of the credentials, with the variables they came from."""
    if isinstance(error, ApiError):
        if error.status in (401, 403) and reached.variables and not error.credential_vars:
            error = error.with_context(credential_vars=reached.variables)
        if several:
            error = error.with_context(account=reached.account.label)
    return error
