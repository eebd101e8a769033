"""Which accounts a run reaches, with which credentials, proven, and reading them side by side.

The environment's credentials are the parent's. An account a file names is reached with, in order:

1. the parent's own credentials, when it is the parent (``TWILIO_ACCOUNT_SID``);
2. its own credentials from the environment (:func:`reconciler.accounts.environment.account_credentials`);
3. its auth token, read from the Accounts resource with the parent's credentials.

Identity before action: credentials are proven to belong to the account they are used for before any
request reads or writes with them. An auth token proves itself (its user name is its account's SID); an
API key is proven with one request (:func:`reconciler.accounts.directory.reaches`): it must reach the
account's v2010 resources and, for a subaccount, must not reach the parent's (a parent's key reaches its
subaccounts' too). A key that cannot be proven is refused, naming its variables, and nothing is read.

Friendly names are read only in a run that names another account than the parent, so a run of one
account makes no request beyond the proof and the Senders API. Records are read one by one for a few
accounts, from the list in pages for more (:class:`~reconciler.accounts.directory.Lookups`); accounts are
resolved and read as many at a time as their :class:`~reconciler.accounts.window.Window` allows. A token
read here lives in memory only, in a :class:`~reconciler.auth.Credentials`, whose ``repr`` hides it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.accounts.directory import V2010, Lookups, check_active
from reconciler.accounts.environment import AccountVariables, Given
from reconciler.accounts.record import AccountRef
from reconciler.accounts.window import Window, gather_paced
from reconciler.auth import Credentials
from reconciler.client import DEFAULT_CONCURRENCY, RetryPolicy
from reconciler.errors import AccountError, ApiError, CredentialsError, ReconcilerError

_U = TypeVar("_U")

@dataclass(frozen=True)
class Reached:
    """An account and the credentials that reach it; ``variables`` names where they came from (for a 401)."""

    account: AccountRef
    credentials: Credentials = field(repr=False)
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parent:
    """The environment's credentials (or why there are none), and the parent's SID: ``TWILIO_ACCOUNT_SID``,
    which may be given without credentials, to prove a subaccount's key is not the parent's."""

    given: Given | None
    error: ReconcilerError | None = None
    named_sid: str | None = None

    @property
    def sid(self) -> str | None:
        return self.given.account_sid if self.given is not None else self.named_sid

    @property
    def credentials(self) -> Credentials | None:
        return self.given.credentials if self.given is not None else None

    @property
    def variables(self) -> tuple[str, ...]:
        return self.given.variables if self.given is not None else ()

    def require(self) -> Given:
        if self.given is None:
            raise self.error or CredentialsError("no Twilio credentials")
        return self.given


class Resolver:
    """Finds the credentials of each account a run names, and proves them (see the module's docstring)."""

    def __init__(self, parent: Parent, *, api_base_url: str | None, retry: RetryPolicy,
                 environ: Mapping[str, str] | None, concurrency: int = DEFAULT_CONCURRENCY):
        """``concurrency``: the v2010 requests of one set of credentials (the parent's lookups) at once, at most."""
        self.parent = parent
        self.v2010 = V2010(api_base_url, retry, concurrency)
        self.own = AccountVariables(environ)  # each account's own credentials, read once
        #: (key, account) pairs proven in this run: a key is proven once, whatever the number of reads.
        self._proven: set[tuple[str, str]] = set()
        #: Subaccounts the parent's credentials were shown to reach, so to own.
        self._owned: set[str] = set()

    async def prove(self, given: Given) -> None:
        """Nothing when ``given`` reaches its account and no other one above it; :class:`CredentialsError`,
        naming the variables (never a value), when it does not or cannot be shown to."""
        if not given.is_key or (given.credentials.username, given.account_sid) in self._proven:
            return
        names, sid = " and ".join(given.variables), given.account_sid
        owner = None if given is self.parent.given else await self._owner_of(given)
        found = await self.v2010.reach(given.credentials, sid, owner=owner,
                                       why=f"cannot prove which account {names} belong to")
        if found.refusal is not None:
            code = f" / Twilio {found.refusal.code}" if found.refusal.code else ""
            raise CredentialsError(
                f"{names}: the API key was refused for account {sid} (HTTP {found.refusal.status}{code}): it belongs to "
                "another account, or its secret is wrong; nothing was read or changed with it")
        if found.reaches_above and owner is not None:  # the owner is known for certain: the key must not reach it
            raise CredentialsError(
                f"{names}: the API key reaches the parent account {owner}, so it is not {sid}'s own key (a "
                f"parent's key reaches its subaccounts too); give a key created in {sid}, or its auth token")
        if found.reaches_above:
            raise CredentialsError(
                f"{names}: the API key reaches account {found.above}, which owns {sid}: it is {found.above}'s key, and "
                f"the Senders API would read and write {found.above}'s senders, not {sid}'s; give a key created in "
                f"{sid}, or set TWILIO_ACCOUNT_SID to {found.above} and name {sid} with 'account:' in its files")
        self._proven.add((given.credentials.username, sid))

    async def _owner_of(self, given: Given) -> str | None:
        """The parent that owns ``given``'s account, proven: its own credentials, proven, must reach that account
        (only an account's owner reaches it); None when the account is the parent itself. A key given for a
        subaccount can only be told from its parent's with the parent known for certain."""
        sid, parent = given.account_sid, self.parent.given
        if parent is None:
            raise CredentialsError(
                f"{' and '.join(given.variables)}: cannot prove this API key belongs to account {sid}: give the "
                "parent account's credentials too (TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with a key), so the "
                f"key can be shown not to be the parent's, or give {sid}'s auth token (TWILIO_AUTH_TOKEN_{sid}) instead")
        if parent.account_sid == sid:
            return None
        await self.prove(parent)
        if sid not in self._owned:
            refusal = await self.v2010.reaches(parent.credentials, sid, why="cannot prove which account owns " + sid)
            if refusal is not None:
                raise CredentialsError(
                    f"account {sid}: the parent's credentials ({' and '.join(parent.variables)}) do not reach it "
                    f"(HTTP {refusal.status}), so {sid} is not a subaccount of {parent.account_sid} or they may not "
                    "read a subaccount (a Standard key may not): the key given for it cannot be told from the "
                    "parent's; use the parent's auth token or a Main key, or give its auth token instead")
            self._owned.add(sid)
        return parent.account_sid

    async def each(self, sids: Sequence[str], work: Callable[[Reached], Awaitable[_U]], window: Window | int = 1,
                   ) -> list[tuple[Reached, _U]]:
        """Each account reached and proven, then ``work`` done with it, as many accounts at a time as ``window``
        allows: an account's work starts as soon as its credentials are known, while others are still being
        looked up. :class:`AccountError` names every account out of reach."""
        others = [sid for sid in sids if sid != self.parent.sid]
        if not others:
            return await gather_paced(list(sids), lambda _: self._parent_then(work), window)
        needs_parent = len(others) < len(sids) or any(self.own.of(sid) is None for sid in others)
        if self.parent.given is None and not needs_parent:  # each account has its own credentials: no parent needed
            return await gather_paced(list(sids), lambda sid: self._own_then(sid, None, work), window)
        parent = self.parent.require()
        await self.prove(parent)
        async with (self.v2010.client(parent.credentials, "cannot read the Accounts resource for the subaccounts") as api,
                    Lookups(api, sids, key=parent.is_key) as directory):
            async def one(sid: str) -> tuple[Reached, _U]:
                if sid == self.parent.sid:
                    record = await directory.record_or_none(sid)
                    return await _paired(self._parent(record.friendly_name if record else None), work)
                return await self._own_then(sid, directory, work)

            return await gather_paced(list(sids), one, window)

    def _parent(self, name: str | None = None) -> Reached:
        given = self.parent.require()
        return Reached(AccountRef(given.account_sid, name), given.credentials, given.variables)

    async def _parent_then(self, work: Callable[[Reached], Awaitable[_U]]) -> tuple[Reached, _U]:
        await self.prove(self.parent.require())
        return await _paired(self._parent(), work)

    async def _own_then(self, sid: str, directory: Lookups | None, work: Callable[[Reached], Awaitable[_U]],
                        ) -> tuple[Reached, _U]:
        return await _paired(await self._one(directory, sid), work)

    async def _one(self, directory: Lookups | None, sid: str) -> Reached:
        own = self.own.of(sid)
        if own is not None:
            await self.prove(own)
            record = await directory.record_or_none(sid) if directory else None
            return Reached(AccountRef(sid, record.friendly_name if record else None), own.credentials, own.variables)
        if directory is None:
            raise AccountError(f"account {sid}: no credentials for it")
        parent = self.parent.require()
        record = await directory.look_up(sid)
        check_active(record)
        if record.owner_account_sid not in (None, parent.account_sid):
            raise AccountError(f"account {sid}: it belongs to {record.owner_account_sid}, not to {parent.account_sid}")
        credentials = record.credentials()
        if credentials is None:
            raise AccountError(f"account {sid}: the Accounts resource gave no auth token for it; give its own "
                               f"credentials (TWILIO_AUTH_TOKEN_{sid}, see docs/accounts.md)")
        return Reached(AccountRef(sid, record.friendly_name), credentials,
                       (f"the auth token the Accounts resource gave for {sid}",))


async def _paired(who: Reached, work: Callable[[Reached], Awaitable[_U]]) -> tuple[Reached, _U]:
    return who, await work(who)


def explained(error: BaseException, reached: Reached, several: bool) -> BaseException:
    """An API error during an account's work, said for that account (in a run of several) and, for a
    refusal of the credentials, with the variables they came from."""
    if isinstance(error, ApiError):
        if error.status in (401, 403) and reached.variables and not error.credential_vars:
            error = error.with_context(credential_vars=reached.variables)
        if several:
            error = error.with_context(account=reached.account.label)
    return error
