"""The one composition layer: files, the API, plans, saved plans and apply wired together for one run.

    session = Session(ApiSettings(base_url=url))
    run = session.plan(["senders.yaml"])     # loads the files while the live senders are read, per account
    reports = session.apply(run, interrupts=Interrupts())

The CLI and the demo both go through here; tests drive it in-process without click. Event loops and the
reader thread live here and nowhere above; the process-wide tuning around the heavy steps is
:mod:`reconciler.runtime`'s, none unless the command line's entry turned it on. Nothing here prints:
results are data, and ``reconciler.render`` words them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from reconciler import runtime
from reconciler.accounts.environment import given_credentials, main_credentials, secret_of
from reconciler.accounts.fleet import Fleet
from reconciler.accounts.reach import Parent, Reached, Resolver, explained
from reconciler.accounts.record import AccountPlan, AccountReport
from reconciler.accounts.run import ApplyFront, ApplyResult, Planner, PlanResult, Run, check_distinct, sids_of
from reconciler.accounts.window import gather_paced
from reconciler.apply import ApplyReport, Outcome, Settled, apply_plan, wait_until_settled
from reconciler.auth import api_url_beside, is_loopback, twilio_url
from reconciler.client import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Credentials,
    RetryPolicy,
    SendersClient,
    check_base_url,
    senders_from_pages,
)
from reconciler.config import DEFAULT_FILE as DEFAULT_FILE  # re-exported for the CLI
from reconciler.defaults import STDIO
from reconciler.errors import (
    AccountError,
    ApiError,
    CredentialsError,
    PlanFileError,
    ReconcilerError,
    UnsafePlanError,
)
from reconciler.export import Skipped, export_file
from reconciler.fs import atomic_write
from reconciler.interrupts import Interrupts as Interrupts  # re-exported for the CLI
from reconciler.models import ACCOUNT_SID, DesiredState, LivePools, LiveSender
from reconciler.offline import JSON_SCHEMA_DIALECT as JSON_SCHEMA_DIALECT  # re-exported
from reconciler.offline import glance, protections
from reconciler.offline import json_schema as json_schema  # re-exported
from reconciler.offline import validate_files as validate_files  # re-exported
from reconciler.overlap import load_while_reading
from reconciler.planfile import PLAN_KEY_ENV, check_fresh, check_protected, dump_plan, load_plan, signing_key
from reconciler.pool_reads import ServicePools, placed, read_account

_T = TypeVar("_T")
#: What is read while the files load: the parent's pages of senders, as bytes, and its pools (None: not read).
Early = tuple[list[bytes], LivePools | None]

__all__ = ["DEFAULT_FILE", "ApiSettings", "ApplyFront", "ApplyResult", "Exported", "Interrupts", "PlanResult", "Run",
           "Session", "json_schema", "read_saved_plan", "validate_files", "write_file"]


@dataclass(frozen=True)
class ApiSettings:
    """Where and how hard to reach the API (the CLI's shared options); the defaults are the documented ones."""

    #: The Senders API's origin; None: Twilio's, with TWILIO_REGION / TWILIO_EDGE.
    base_url: str | None = None
    request_timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = RetryPolicy.attempts
    backoff: float = RetryPolicy.backoff
    #: The Accounts resource's origin (subaccount lookups); None: Twilio's beside ``base_url`` on Twilio's hosts,
    #: and none at all for a ``base_url`` off them.
    api_base_url: str | None = None
    #: Accounts read or applied at once in a run that spans several, at most; None: as many as the window of
    #: accounts in flight grows to (:mod:`reconciler.accounts.window`).
    account_concurrency: int | None = None
    #: False: writes in flight stay at the concurrency asked for, whatever the API answers.
    adaptive: bool = True
    #: Each client appends its request statistics to this file, one JSON line, when it closes.
    stats_file: str | None = None


@dataclass(frozen=True)
class Exported:
    text: str
    count: int
    skipped: tuple[Skipped, ...]


class Session:
    """One run against one API endpoint: the parent's credentials, and the accounts they reach."""

    def __init__(self, settings: ApiSettings, *, credentials: Credentials | None = None,
                 environ: Mapping[str, str] | None = None):
        """``credentials`` (with their ``account_sid``) stand for the environment's ``TWILIO_*`` ones."""
        env = os.environ if environ is None else environ
        #: Settings refused (a base URL, a region): raised by the first step that would use them, after the files
        #: are checked, since a broken file is the more useful error (it needs no settings).
        self._refused: ReconcilerError | None = None
        try:
            self.base_url = check_base_url(settings.base_url or twilio_url("messaging", env))
            api_base = settings.api_base_url or api_url_beside(self.base_url) or _same_if_local(self.base_url)
            self.api_base_url = check_base_url(api_base) if api_base else None
        except ReconcilerError as exc:
            self.base_url, self.api_base_url, self._refused = "", None, exc
        self.retry = RetryPolicy(attempts=settings.max_attempts, backoff=settings.backoff,
                                 timeout=settings.request_timeout)
        self.account_concurrency = settings.account_concurrency
        self._adaptive, self._stats_file = settings.adaptive, settings.stats_file
        self._environ = environ
        try:
            self.parent = Parent(main_credentials(env) if credentials is None else given_credentials(credentials))
        except CredentialsError as exc:
            named = env.get("TWILIO_ACCOUNT_SID") or None
            self.parent = Parent(None, exc, named if named and ACCOUNT_SID.match(named) else None)
        self.resolver = Resolver(self.parent, api_base_url=self.api_base_url, retry=self.retry, environ=environ)

    @property
    def credentials(self) -> Credentials:
        """The environment's (the parent's) credentials; :class:`CredentialsError` when there are none."""
        return self.parent.require().credentials

    def usable(self) -> None:
        """The settings' refusal, if any: before any step that reaches the API or names its endpoint."""
        if self._refused is not None:
            raise self._refused

    def client(self, concurrency: int = DEFAULT_CONCURRENCY, credentials: Credentials | None = None,
               fleet: Fleet | None = None) -> SendersClient:
        """A client of the Senders API; ``fleet``: what it shares with the run's other accounts."""
        self.usable()
        return SendersClient(credentials or self.credentials, base_url=self.base_url, retry=self.retry,
                             concurrency=concurrency, adaptive=self._adaptive, stats_file=self._stats_file,
                             observer=fleet.window.answered if fleet else None,
                             connections=fleet.connections if fleet else None)

    def _fleet(self, connections: int = 1) -> contextlib.AbstractAsyncContextManager[Fleet]:
        self.usable()
        return Fleet.open(self.base_url, timeout=self.retry.timeout, connections=connections, cap=self.account_concurrency)

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        try:
            return asyncio.run(coroutine)
        except ApiError as exc:
            raise self._explained(exc) from None

    def _explained(self, error: BaseException) -> BaseException:
        """A refusal of the credentials, with the names of the variables they came from."""
        if isinstance(error, ApiError) and error.status in (401, 403) and not error.credential_vars:
            return error.with_context(credential_vars=self.parent.variables)
        return error

    def plan_key(self) -> bytes:
        own = (self._environ if self._environ is not None else os.environ).get(PLAN_KEY_ENV)
        return signing_key("" if own else self.credentials.secret, self._environ)

    # ---- reads

    def read_live(self, account: str | None = None) -> list[LiveSender]:
        """The live senders of an account (None: the parent's)."""
        return self._read_one(account)[1]

    def _read_one(self, account: str | None, pools: dict[str, LivePools] | None = None) -> tuple[Reached, list[LiveSender]]:
        """An account reached, its live senders read (its pools into ``pools``), with the proven credentials."""
        self.usable()
        sid = account or self.parent.require().account_sid
        return self._run(self.resolver.each([sid], lambda who: self._list(who, account is not None, None, pools)))[0]

    async def _list(self, who: Reached, several: bool, fleet: Fleet | None = None, pools: dict[str, LivePools] | None = None,
                    senders: list[LiveSender] | None = None) -> list[LiveSender]:
        """A reached account's live senders (and pools: :func:`read_account`); a failure said for it among ``several``."""
        async with self.client(credentials=who.credentials, fleet=fleet) as api:
            try:
                return await read_account(api, pools, who.account.sid, senders)
            except ApiError as exc:
                raise explained(exc, who, several) from None

    def plan(self, files: Sequence[str | Path], *, allow_delete: bool = False, targets: Iterable[str] = (),
             force: bool = False, accounts: Sequence[str] = ()) -> Run:
        """Load the files and read the live senders of every account they name (the parent's while loading), then plan.

        ``accounts`` limits the run to those account SIDs. Every account is reached and read before any
        plan is made: one that cannot be is an error naming it, and nothing is planned.
        """
        wanted = tuple(accounts)
        with runtime.tuning().planning():
            states, pages = self._load_while_reading(files, wanted)
            self.usable()
            accounts = [self._account_of(s) for s in states]
            planner = Planner(states, accounts, allow_delete=allow_delete, targets=tuple(targets), force=force,
                              place=placed)
            del states  # each account's desired state is the planner's now, dropped once planned
            reached = self._run(self._reach(accounts, pages, planner.plan, planner.pooled))
            return planner.run(reached)

    def plan_run(self, files: Sequence[str | Path], *, allow_delete: bool = False, targets: Iterable[str] = (),
                 force: bool = False, accounts: Sequence[str] = (), out: str | Path | None = None) -> PlanResult:
        """``reconciler plan``: the run planned and passed through the safety gate, then saved to ``out`` when it
        has no problems (``-``: returned as the ``document`` for standard output). A refusal of the gate is returned,
        not raised, so the plan can be shown before it."""
        run = self.plan(files, allow_delete=allow_delete, targets=targets, force=force, accounts=accounts)
        try:
            forced = run.check_safety(saved=False if out else None)
        except UnsafePlanError as refused:
            return PlanResult(run, refused=refused)
        saved = bool(out) and not run.problems
        if saved and out:
            document = self.save_plan(out, run)
            return PlanResult(run, forced, saved=saved, document=document if out == STDIO else None)
        return PlanResult(run, forced, saved=saved)

    async def _reach(self, accounts: Sequence[str], early: Early | None,
                     plan: Callable[[Reached, list[LiveSender], LivePools | None], None], pooled: frozenset[str],
                     ) -> list[Reached]:
        """Each account reached (credentials, friendly name), its live senders (and the pools of one in ``pooled``)
        read and handed to ``plan``, side by side; the parent's pages read early are decoded, then let go (its pools
        read early, if any, are used as they are; if their read failed, they are read again here)."""
        several = len(accounts) > 1 or any(sid != self.parent.sid for sid in accounts)
        async with self._fleet() as fleet:
            async def read(who: Reached) -> None:
                into, parsed, sid = (dict[str, LivePools]() if who.account.sid in pooled else None), None, who.account.sid
                if early is not None and sid == self.parent.sid and who.credentials is self.parent.credentials:
                    parsed, pools = senders_from_pages(early[0]), early[1]
                    early[0].clear()
                    if into is not None and pools is not None:
                        plan(who, parsed, pools)
                        return
                plan(who, await self._list(who, several, fleet, into, parsed), (into or {}).get(sid))

            return [who for who, _ in await self.resolver.each(accounts, read, fleet.window)]

    def _account_of(self, state: DesiredState) -> str:
        """The SID of a state's account: the one its files name, else the parent's (an error when it is not known)."""
        return state.account or self.parent.require().account_sid

    def _load_while_reading(self, files: Sequence[str | Path], accounts: Sequence[str] = (),
                            ) -> tuple[list[DesiredState], Early | None]:
        """Load the files while the parent's live senders (and its pools, when the files may name a service) are read
        (:func:`reconciler.overlap.load_while_reading`), when the run may need them: ``accounts`` name the parent, or
        name none and a glance at the files finds they may hold its senders. A failed read is reported once the files
        are loaded, and only when the files have senders in the parent's account."""
        def load() -> list[DesiredState]:
            return validate_files(files, self._environ_for_files(), accounts=accounts)

        if self._refused is not None or self.parent.credentials is None:
            return load(), None
        seen = glance(files, self.parent.sid or "")  # here, before the reader starts: a glance must not block it
        if not (self.parent.sid in accounts if accounts else seen.holds):
            return load(), None
        wanted = seen.services

        async def read() -> Early:
            await self.resolver.prove(self.parent.require())  # identity before the first read
            async with self.client() as client:
                pools = asyncio.ensure_future(ServicePools(client).read()) if wanted else None
                try:
                    pages = await client.read_pages()
                except BaseException:  # the pools are moot without the senders
                    if pools is not None:
                        pools.cancel()
                        await asyncio.gather(pools, return_exceptions=True)
                    raise
                if pools is not None:
                    await asyncio.wait([pools])  # a failure here is not the run's: they are read again, and said then
                return pages, None if pools is None or pools.cancelled() or pools.exception() else pools.result()

        states, outcome = load_while_reading(load, read, runtime.tuning().reader_beside_loader)
        if isinstance(outcome, BaseException):
            if any(s.account in (None, self.parent.sid) for s in states):
                raise self._explained(outcome)
            return states, None
        return states, outcome

    def _environ_for_files(self) -> Mapping[str, str]:
        """What the files see: ``${VAR}`` from the environment, and the parent's SID as the default account."""
        env = dict(os.environ if self._environ is None else self._environ)
        if self.parent.sid:
            env["TWILIO_ACCOUNT_SID"] = self.parent.sid
        else:
            env.pop("TWILIO_ACCOUNT_SID", None)
        return env

    # ---- saved plans

    def save_plan(self, path: str | Path, run: Run) -> str:
        """The run's plans, signed, bound to the accounts their credentials were proven to reach; the text is
        written to ``path``, or only returned for ``-`` (standard output)."""
        self.usable()
        text = dump_plan(run.accounts, base_url=self.base_url, key=self.plan_key(), forced=run.forced)
        if not (isinstance(path, str) and path == STDIO):
            atomic_write(path, text)
        return text

    def load_saved_plan(self, path: str | Path, *, force: bool = False) -> Run:
        """A saved plan, verified (signature, endpoint, accounts) and checked fresh against live state, before any write."""
        self.usable()
        saved = load_plan(path, key=self.plan_key())
        if saved.base_url != self.base_url:
            raise PlanFileError(f"{path}: the plan was made against {saved.base_url}, not {self.base_url}")

        pooled, pools = {a.account.sid for a in saved.accounts if a.plan.summary()["pool"]}, dict[str, LivePools]()

        async def go() -> list[tuple[Reached, list[LiveSender]]]:
            several = len(saved.accounts) > 1
            try:
                async with self._fleet() as fleet:
                    return await self.resolver.each([a.account.sid for a in saved.accounts], lambda who: self._list(
                        who, several, fleet, pools if who.account.sid in pooled else None), fleet.window)
            except AccountError as exc:
                raise PlanFileError(f"{path}: the plan is for accounts these credentials do not reach: {exc}; "
                                    "nothing was changed") from None

        reached = self._run(go())
        check_distinct([(who.account, sids_of(live)) for who, live in reached])
        for entry, (_, live) in zip(saved.accounts, reached, strict=True):
            check_fresh(saved, entry, live, pools.get(entry.account.sid))
            check_protected(saved, entry, partial(protections, entry.sources, entry.account.sid, self._environ_for_files()))
        planned = tuple(entry.named(who.account.friendly_name).forcing(force)
                        for entry, (who, _) in zip(saved.accounts, reached, strict=True))
        return Run(planned, tuple(who for who, _ in reached))

    # ---- writes

    def apply_run(self, run: Run, front: ApplyFront, *, concurrency: int = DEFAULT_CONCURRENCY,
                  wait: float | None = None) -> ApplyResult:
        """``reconciler apply``: the one safety gate, then, unless the plan has problems or nothing to do, the
        front's confirmation, the writes (the front watches them and hears each outcome), and the wait.

        :class:`UnsafePlanError` when the gate refuses; a plan with problems comes back ``blocked``, unapplied.
        """
        run.check_safety()
        if run.problems:  # like Terraform: a plan with errors is not applied in part
            return ApplyResult(run, blocked=True)
        if not run.allowed_actions:
            return ApplyResult(run, tuple(AccountReport(p.account, ApplyReport()) for p in run.accounts))
        front.confirm()
        interrupts = Interrupts(on_stop=front.stopping)
        with front.writing(interrupts):
            reports = tuple(self.apply(run, concurrency=concurrency, interrupts=interrupts, on_outcome=front.landed))
        front.written(reports)
        if wait is None or any(r.report.interrupted for r in reports):
            return ApplyResult(run, reports)
        try:
            return ApplyResult(run, reports, self.wait(run, reports, wait, on_round=front.waiting))
        except KeyboardInterrupt:  # the writes are done and reported
            return ApplyResult(run, reports, wait_stopped=True)


    def apply(self, run: Run, *, concurrency: int = DEFAULT_CONCURRENCY, interrupts: Interrupts | None = None,
              on_outcome: Callable[[Outcome], None] | None = None) -> list[AccountReport]:
        """Perform the run's allowed actions, accounts side by side, each with its own write concurrency.

        One account's failure does not stop the others; ``interrupts`` stops or aborts them all.
        """
        requests = interrupts or Interrupts()

        async def go() -> list[AccountReport]:
            stop, abort = requests.bind()

            async def one(item: tuple[AccountPlan, Reached], fleet: Fleet) -> AccountReport:
                planned, who = item
                if not planned.plan.allowed_actions:
                    return AccountReport(planned.account, ApplyReport())
                async with self.client(concurrency, who.credentials, fleet) as client:
                    try:
                        report = await apply_plan(planned.plan, client, concurrency=concurrency, stop=stop,
                                                  abort=abort, on_outcome=on_outcome, pools=ServicePools(client))
                    except ApiError as exc:
                        raise explained(exc, who, run.several) from None
                return AccountReport(planned.account, report)

            async with self._fleet(concurrency) as fleet:
                return await gather_paced(list(zip(run.accounts, run.reached, strict=True)), lambda item: one(item, fleet),
                                          fleet.window)

        return self._run(go())

    def wait(self, run: Run, reports: Sequence[AccountReport], timeout: float,
             on_round: Callable[[dict[str, LiveSender | None], tuple[str, ...], float], None] | None = None) -> Settled:
        """Poll until the created and updated senders leave transient statuses, or ``timeout`` seconds pass."""
        by_account = {r.account.sid: r.report for r in reports}  # the names may differ: read again since the plan

        async def one(who: Reached, fleet: Fleet) -> Settled:
            report = by_account.get(who.account.sid)
            ids = [o.sender_id for o in report.outcomes if o.ok and o.action in ("create", "update")] if report else []
            if not ids:
                return Settled({}, ())
            async with self.client(credentials=who.credentials, fleet=fleet) as client:
                return await wait_until_settled(client, ids, timeout=timeout, on_round=on_round)

        async def go() -> Settled:
            async with self._fleet() as fleet:
                parts = await gather_paced(list(run.reached), lambda who: one(who, fleet), fleet.window)
            statuses: dict[str, LiveSender | None] = {}
            timed_out: list[str] = []
            for part in parts:
                statuses.update(part.statuses)
                timed_out.extend(part.timed_out)
            return Settled(statuses, tuple(timed_out))

        return self._run(go())

    def pending_verification(self, sender_id: str, account: str | None = None) -> tuple[LiveSender, Reached]:
        """The live sender waiting for its verification code; an error when it is missing or not waiting."""
        reached, live = self._read_one(account)
        current = next((s for s in live if sender_id in (s.sender_id, s.sid)), None)
        where = f"account {account}" if account else "the account"
        if current is None:
            raise ReconcilerError(f"sender {sender_id}: not found in {where}{_id_hint(sender_id, live)}")
        if current.status != "PENDING_VERIFICATION":
            raise ReconcilerError(
                f"sender {sender_id}: status is {current.status}, not PENDING_VERIFICATION; nothing to verify"
            )
        return current, reached

    def verify(self, sender: LiveSender, code: str, reached: Reached | None = None) -> str | None:
        """Submit a verification code; returns the status the API answered with."""

        async def go() -> dict[str, Any]:
            async with self.client(credentials=reached.credentials if reached else None) as client:
                try:
                    return await client.verify(sender.sid, code.strip())
                except ApiError as exc:
                    raise exc.with_context(sender_id=sender.sender_id) from None

        body = self._run(go())
        status = body.get("status") if isinstance(body, dict) else None
        return status if isinstance(status, str) else None

    def export(self, targets: Iterable[str] = (), account: str | None = None) -> Exported:
        """The live senders of an account (the parent's by default) as a desired-state file."""
        wanted, pools = tuple(targets), dict[str, LivePools]()
        live = self._read_one(account, pools)[1]  # and the pools, for each sender's Messaging Service
        missing = sorted(set(wanted) - {s.sender_id for s in live})
        if missing:
            raise ReconcilerError(f"--target matches no live sender: {', '.join(missing)}")
        where = f"account {account} at {self.base_url}" if account else self.base_url
        text, result = export_file(live, targets=wanted, pools=next(iter(pools.values()), None), where=where, account=account)
        return Exported(text, len(result.senders), tuple(result.skipped))


def _same_if_local(base_url: str) -> str | None:
    """A Senders API on a loopback address (the emulator) serves the v2010 resources too: the credentials go
    nowhere they do not go already. Off loopback, where the Accounts resource is cannot be guessed."""
    return base_url if is_loopback(urlsplit(base_url).hostname) else None


def _id_hint(given: str, live: Sequence[LiveSender]) -> str:
    """For an id that matches no sender: the one it probably means."""
    if given.startswith("whatsapp:"):
        return ""
    meant = "whatsapp:" + given
    if any(s.sender_id == meant for s in live):
        return f"; did you mean {meant}?"
    return "; give the sender id as 'whatsapp:' followed by the number (e.g. whatsapp:+15017122661), or its XE... SID"


def read_saved_plan(path: str | Path, environ: Mapping[str, str] | None = None) -> tuple[Run, str | None]:
    """A saved plan to show, offline; verified when a key is at hand: ``RECONCILER_PLAN_KEY``, or the
    credentials' secret in the environment. Returns the plan and where the key came from (None: not verified)."""
    env = os.environ if environ is None else environ
    source: str | None = PLAN_KEY_ENV if env.get(PLAN_KEY_ENV) else None
    secret = ""
    if source is None:
        found = secret_of(env)
        if found is not None:
            secret, source = found
    key = signing_key(secret, env) if source is not None else None
    saved = load_plan(path, key=key)
    return Run(saved.accounts), source


def write_file(path: str | Path, text: str) -> None:
    """Write an output file (plan, export) atomically."""
    atomic_write(path, text)
