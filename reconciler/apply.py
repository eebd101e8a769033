"""Execute a plan through a client: bounded concurrency, every action's outcome reported.

One failed action does not stop the others. A create whose response was lost is safe to retry: the
API refuses a second sender with the same ``sender_id`` (409), and apply then reads the sender it made
and carries on. Outcomes are confirmed by one list read after the writes, not taken from the write
responses (Twilio's may hold nulls). A stop request (SIGINT/SIGTERM in the CLI) lets in-flight writes
finish and starts no new ones; the report says what was done and what was not.

An action is ``failed`` only when the API definitely refused its write (a 4xx answer to that write, with
no earlier attempt that may have landed). Everything else that goes wrong, a read on the way included
(the list read that adopts a sender after a 409), leaves the outcome ``unknown`` until the confirming read
settles it: a refusal is a fact about the write, a failed read is not.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from reconciler.diff import Action, ActionKind, FieldChange, nest, plan_update
from reconciler.errors import ApiError
from reconciler.models import CODE_NAME_IN_PROGRESS, DesiredSender, LiveSender
from reconciler.plan import Plan
from reconciler.pool_apply import PoolMover, PoolsApi, pool_shown

#: ``unknown``: the API's answer to a write was lost (timeout, dropped connection, 5xx, unreadable body), or a
#: read the write needed failed, so it may or may not have been applied; the confirming read settles it as
#: ``done`` or ``not_applied``. Only a definite refusal (a 4xx answering the write itself) is ``failed``.
Result = Literal["done", "failed", "unknown", "not_applied", "not_started", "interrupted"]


class SendersApi(Protocol):
    """What apply needs from a client (``reconciler.client.SendersClient`` provides it)."""

    async def list_senders(self) -> list[LiveSender]: ...
    async def create(self, body: dict[str, Any]) -> dict[str, Any]: ...
    async def update(self, sid: str, body: dict[str, Any]) -> dict[str, Any]: ...
    async def delete(self, sid: str) -> None: ...


#: How an action ended, for the report to word: each ``result`` has its own few.
Detail = Literal[
    "created", "adopted_updated", "adopted_same", "updated", "deleted", "already_deleted",  # done
    "already_same",  # done: nothing was sent (or read back), but the API's list shows the file's state
    "refused",  # failed: the API said no (``error`` says why)
    "lost",  # unknown, or not_applied once the confirming read settled it (``error`` says what was lost)
    "unread",  # unknown: a create met 409 (the sender exists), but reading it to adopt it failed (``error``)
    "unsent",  # not_applied: the request never left (the connection could not be made; ``error`` says why)
    "settled",  # done: the answer was lost, but the confirming read shows the change
    "stopped",  # not_started
    "in_flight",  # interrupted: the API may or may not have applied it
    "pooled", "already_pooled",  # done: a pool action's writes were answered, or none was needed after all
    "no_sender",  # not_applied: the sender a pool action was for was not created, so nothing could join
]


@dataclass
class Outcome:
    """What happened to one action."""

    action: ActionKind
    sender_id: str
    result: Result
    detail: Detail
    sid: str | None = None
    #: How many fields an update changed, and whether the display name was one (Meta reviews it).
    fields: int = 0
    renamed: bool = False
    error: ApiError | None = None
    #: From the confirming read: the sender's status after apply, and whether live now matches the plan.
    final_status: str | None = None
    confirmed: bool | None = None
    #: A pool action's change: the service the sender was in and the one it joins.
    change: FieldChange | None = None

    @property
    def ok(self) -> bool:
        return self.result == "done" and self.confirmed is not False


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    confirm_error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return not self.interrupted and self.confirm_error is None and all(o.ok for o in self.outcomes)

    def count(self, result: Result) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    def summary(self) -> dict[str, int]:
        """Outcomes by kind; ``done`` counts only what the API confirmed, ``unconfirmed`` the rest."""
        return {
            "done": sum(1 for o in self.outcomes if o.ok),
            "failed": self.count("failed"),
            "unconfirmed": sum(1 for o in self.outcomes if o.result == "done" and o.confirmed is False),
            "unknown": self.count("unknown"),
            "not_applied": self.count("not_applied"),
            "not_started": self.count("not_started"),
            "interrupted": self.count("interrupted"),
        }


async def apply_plan(
    plan: Plan,
    api: SendersApi,
    *,
    concurrency: int,
    stop: asyncio.Event | None = None,
    abort: asyncio.Event | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    confirm: bool = True,
    pools: PoolsApi | None = None,
) -> ApplyReport:
    """Perform the allowed actions of ``plan`` and return what happened to each.

    ``stop`` set: no new action starts. ``abort`` set: in-flight actions are cancelled too. ``pools``: the
    Messaging Services' pools, for the plan's pool actions; one for a sender the plan creates waits for its create
    and joins with the SID it returned.
    """
    stop = stop or asyncio.Event()
    abort = abort or asyncio.Event()
    runner = _Runner(api, PoolMover(pools) if pools is not None else None, max(concurrency, 1), stop)
    actions = plan.allowed_actions
    tasks = runner.start(actions)
    try:
        await _watch(tasks, abort, on_outcome)
    finally:
        runner.close()
    report = ApplyReport()
    # A task cancelled before it first ran never reached its own handler.
    report.outcomes = [_not_started(a) if t.cancelled() else t.result() for a, t in zip(actions, tasks, strict=False)]
    report.interrupted = stop.is_set() or abort.is_set()

    unsettled = {o.action == "pool" for o in report.outcomes if o.result in _SETTLED_BY_READ}
    if confirm and False in unsettled and not abort.is_set():
        await _confirm(report, plan, api)
    if confirm and True in unsettled and pools is not None and not abort.is_set():
        await _confirm_pools(report, plan, pools)
    return report


def _not_started(action: Action) -> Outcome:
    return Outcome(action.action, action.sender_id, "not_started", "stopped", sid=action.sid)


class _Runner:
    """Each action of an apply as a task: at most ``concurrency`` writing at once, none started after a stop, and a
    pool action for a sender the plan creates waiting for its create (outside the gate) to join with its SID."""

    def __init__(self, api: SendersApi, mover: PoolMover | None, concurrency: int, stop: asyncio.Event):
        self.api, self.mover, self.stop = api, mover, stop
        self.gate = asyncio.Semaphore(concurrency)

    def start(self, actions: tuple[Action, ...]) -> list[asyncio.Task[Outcome]]:
        tasks: list[asyncio.Task[Outcome]] = []
        creates: dict[str, asyncio.Task[Outcome]] = {}
        for a in actions:  # a sender's create comes before its pool action (the plan's order)
            after = creates.get(a.sender_id) if a.action == "pool" and a.sid is None else None
            tasks.append(asyncio.create_task(self.outcome_of(a, after)))
            if a.action == "create":
                creates[a.sender_id] = tasks[-1]
        return tasks

    async def outcome_of(self, action: Action, after: asyncio.Task[Outcome] | None) -> Outcome:
        if after is not None:
            try:
                created = await asyncio.shield(after)
            except asyncio.CancelledError:
                return _not_started(action)
            if created.result != "done" or not created.sid:
                outcome = Outcome("pool", action.sender_id, "not_applied", "no_sender", sid=created.sid)
                return self._with_change(outcome, action)
            action = replace(action, sid=created.sid)
        return self._with_change(await self.run(action), action)

    @staticmethod
    def _with_change(outcome: Outcome, action: Action) -> Outcome:
        outcome.change = action.changes[0] if action.action == "pool" and action.changes else None
        return outcome

    async def run(self, action: Action) -> Outcome:
        try:
            await self.gate.acquire()
        except asyncio.CancelledError:  # aborted while queued: nothing was sent for it
            return _not_started(action)
        try:
            if self.stop.is_set():
                return _not_started(action)
            try:
                return await _perform(action, self.api, self.mover)
            except ApiError as exc:
                return _unanswered(action, exc.with_context(sender_id=action.sender_id))
            except asyncio.CancelledError:
                return Outcome(action.action, action.sender_id, "interrupted", "in_flight", sid=action.sid)
        finally:
            self.gate.release()

    def close(self) -> None:
        if self.mover is not None:
            self.mover.close()


async def _watch(tasks: list[asyncio.Task[Outcome]], abort: asyncio.Event,
                 on_outcome: Callable[[Outcome], None] | None) -> None:
    """Until every task has ended, each outcome handed to ``on_outcome`` as it lands; on ``abort``, the tasks still
    running are cancelled.

    Finished tasks are handed over by callbacks rather than found by asyncio.wait, which registers
    on every pending task at each call: quadratic, a quarter of apply's CPU for 1,000 actions.
    """
    finished: deque[asyncio.Task[Outcome]] = deque()
    wake = asyncio.Event()

    def landed(task: asyncio.Task[Outcome]) -> None:
        finished.append(task)
        wake.set()

    for t in tasks:
        t.add_done_callback(landed)
    abort_wait = asyncio.create_task(abort.wait())
    abort_wait.add_done_callback(lambda _: wake.set())
    try:
        reported = 0
        while reported < len(tasks):
            await wake.wait()
            wake.clear()
            while finished:
                t = finished.popleft()
                reported += 1
                if on_outcome:
                    on_outcome(t.result())
            if abort.is_set():
                pending = [t for t in tasks if not t.done()]
                for t in pending:
                    t.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                break
    finally:
        abort_wait.cancel()


def is_refusal(error: ApiError) -> bool:
    """Whether ``error`` is the API's definite "no" to a write: a 4xx answering it, after no attempt that may
    have been applied. A 5xx, a lost answer, or a 4xx after such an attempt is not (``outcome_unknown``)."""
    return error.status is not None and 400 <= error.status < 500 and not error.outcome_unknown


def _unanswered(action: Action, error: ApiError) -> Outcome:
    """The outcome of a write that raised ``error``: ``failed`` only for a refusal (:func:`is_refusal`)."""
    if is_refusal(error):
        return Outcome(action.action, action.sender_id, "failed", "refused", sid=action.sid, error=error)
    if error.status is None and not error.outcome_unknown:  # the connection was never made: nothing was sent
        return Outcome(action.action, action.sender_id, "not_applied", "unsent", sid=action.sid, error=error)
    return Outcome(action.action, action.sender_id, "unknown", "lost", sid=action.sid, error=error)


#: What an action found shown by the confirming read is, when its own write did not do it (never sent, or
#: a create whose existing sender could not be read).
_ALREADY: dict[ActionKind, Detail] = {"create": "adopted_same", "update": "already_same", "delete": "already_deleted",
                                      "pool": "already_pooled"}

#: The outcomes the confirming read looks at again: all but refusals, stopped actions and aborted ones
#: (after an abort no read is made at all).
_SETTLED_BY_READ = frozenset({"done", "unknown", "not_applied"})


def target_state(action: Action) -> DesiredSender:
    """The sender as the action leaves it: its changed fields at their new values."""
    return DesiredSender.model_validate({"sender_id": action.sender_id, **nest({c.path: c.after for c in action.changes})})


async def _perform(action: Action, api: SendersApi, mover: PoolMover | None) -> Outcome:
    if action.action == "pool":
        if mover is None or action.sid is None:
            raise ApiError("no Messaging Services API was given for a pool action", sender_id=action.sender_id)
        return Outcome("pool", action.sender_id, "done", await mover.move(action, action.sid), sid=action.sid)
    if action.action == "create":
        try:
            body = await api.create(action.body)
        except ApiError as exc:
            if is_duplicate(exc):
                return await _adopt_existing(action, api)
            raise
        return Outcome("create", action.sender_id, "done", "created", sid=(body or {}).get("sid"))
    if action.action == "update":
        assert action.sid is not None
        body = await api.update(action.sid, action.body)
        if isinstance(body, dict) and body.get("display_name_status") == "error":
            error = await _name_alone(action, api)
            if error is not None:
                return Outcome("update", action.sender_id, "failed", "refused", sid=action.sid, error=error)
        renamed = any(c.path == "profile.name" for c in action.changes)
        return Outcome("update", action.sender_id, "done", "updated", sid=action.sid, fields=len(action.changes),
                       renamed=renamed)
    assert action.sid is not None
    try:
        await api.delete(action.sid)
    except ApiError as exc:
        if exc.status == 404:  # gone already, e.g. our earlier attempt succeeded but its response was lost
            return Outcome("delete", action.sender_id, "done", "already_deleted", sid=action.sid)
        raise
    return Outcome("delete", action.sender_id, "done", "deleted", sid=action.sid)


async def _name_alone(action: Action, api: SendersApi) -> ApiError | None:
    """The other fields were applied, but the display name was not (``display_name_status: error``, which carries
    no code nor reason): send the name alone, which the API answers with its code (63124 with Meta's reason,
    63128) when it refuses it again. Returns the refusal, or None when the name was taken this time."""
    assert action.sid is not None
    name = next((c.after for c in action.changes if c.path == "profile.name"), None)
    if name is None:
        return ApiError("the API did not accept the display-name change (display_name_status: error)",
                        sender_id=action.sender_id)
    try:
        body = await api.update(action.sid, {"profile": {"name": name}})
    except ApiError as exc:
        if exc.outcome_unknown:
            raise
        return exc.with_context(sender_id=action.sender_id)
    if isinstance(body, dict) and body.get("display_name_status") == "error":
        return ApiError("the API did not accept the display-name change (display_name_status: error)",
                        sender_id=action.sender_id)
    return None


def is_duplicate(error: ApiError) -> bool:
    """Whether a create's refusal says the sender exists already: any 409 (Twilio answers 63100 "sender_id
    provided already exists", and 63110 "Sender already registered" has been seen too), but a 409 whose code
    means something else (63128: a display name in review)."""
    return error.status == 409 and error.code not in _NOT_DUPLICATE


#: 409s that do not say the sender exists.
_NOT_DUPLICATE = frozenset({CODE_NAME_IN_PROGRESS})


async def _adopt_existing(action: Action, api: SendersApi) -> Outcome:
    """The sender exists already (our own earlier attempt, or someone else's): bring it to the file's state.

    When it cannot be read, its outcome is unknown, never failed: the create may well have been ours (a retry
    after an answer that was lost), and the confirming read settles it.
    """
    try:
        listed = await api.list_senders()
    except ApiError as exc:
        return Outcome("create", action.sender_id, "unknown", "unread", error=exc.with_context(sender_id=action.sender_id))
    existing = next((s for s in listed if s.sender_id == action.sender_id), None)
    if existing is None:
        error = ApiError("it is not in the list of senders", sender_id=action.sender_id)
        return Outcome("create", action.sender_id, "unknown", "unread", error=error)
    update, problem, _ = plan_update(target_state(action), existing)
    if problem:
        raise ApiError(
            f"the sender exists already and cannot be brought to the file's state: {problem.path} is "
            f"{problem.before!r} there and cannot change to {problem.after!r}",
            status=409,
        )
    if update:
        await api.update(existing.sid, update.body)
        return Outcome("create", action.sender_id, "done", "adopted_updated", sid=existing.sid)
    return Outcome("create", action.sender_id, "done", "adopted_same", sid=existing.sid)


async def _confirm(report: ApplyReport, plan: Plan, api: SendersApi) -> None:
    """One list read: every done action must show in live state (a rename in review counts as shown), and
    every other outcome but a refusal is settled by what the list shows."""
    try:
        live = await api.list_senders()
    except ApiError as exc:
        report.confirm_error = exc
        return
    by_id = {s.sender_id: s for s in live}
    actions = {(a.sender_id, a.action): a for a in plan.actions}
    for o in report.outcomes:
        if o.result not in _SETTLED_BY_READ or o.action == "pool":
            continue
        current = by_id.get(o.sender_id)
        o.final_status = current.status if current else None
        _settle(o, current, _shown(o, current, actions))
        if o.result == "done" and current is not None and o.sid is None:
            o.sid = current.sid


async def _confirm_pools(report: ApplyReport, plan: Plan, pools: PoolsApi) -> None:
    """One read of the pools: every done pool action must show in them, and every other outcome but a refusal is
    settled by what they show. A created sender is known by the SID its create (or the confirming list) gave."""
    try:
        live = await pools.read()
    except ApiError as exc:
        report.confirm_error = report.confirm_error or exc
        return
    created = {o.sender_id: o.sid for o in report.outcomes if o.action == "create"}
    actions = {a.sender_id: a for a in plan.actions if a.action == "pool"}
    for o in report.outcomes:
        if o.action != "pool" or o.result not in _SETTLED_BY_READ:
            continue
        o.sid = o.sid or created.get(o.sender_id)
        _settle(o, None, pool_shown(actions[o.sender_id], live, o.sid))


def _shown(o: Outcome, current: LiveSender | None, actions: Mapping[tuple[str, ActionKind], Action]) -> bool:
    """Whether the list shows what the action meant: the sender gone, or as the file wants it."""
    if o.action == "delete":
        return current is None
    if current is None:
        return False
    update, problem, _ = plan_update(target_state(actions[(o.sender_id, o.action)]), current)
    return update is None and problem is None


def _settle(o: Outcome, current: LiveSender | None, shown: bool) -> None:
    """An outcome as the confirming read settles it (a refusal never comes here)."""
    if o.result == "done":
        o.confirmed = shown
    elif shown:  # the list is the only answer there is
        o.result, o.confirmed = "done", True
        o.detail = "settled" if o.detail == "lost" else _ALREADY[o.action]
    elif o.result == "not_applied":
        pass  # never sent, and the list does not show it either
    elif o.detail == "unread" and current is None:
        pass  # the API said it exists, its list does not show it: only a later read can tell
    elif o.error is None or not o.error.may_land_later:
        o.result = "not_applied"
    # else: a write that timed out may still land after this read: its outcome stays unknown


@dataclass
class Settled:
    """The status of each waited-for sender when waiting ended."""

    statuses: dict[str, LiveSender | None]
    timed_out: tuple[str, ...]


async def wait_until_settled(
    api: SendersApi,
    sender_ids: list[str],
    *,
    timeout: float,
    interval: float = 1.0,
    max_interval: float = 10.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Any] = asyncio.sleep,
    on_round: Callable[[dict[str, LiveSender | None], tuple[str, ...], float], None] | None = None,
) -> Settled:
    """Poll the list (one read per round) until no sender in ``sender_ids`` is in a transient status.

    ``on_round(statuses, still_moving, seconds_elapsed)`` is called after every read.
    """
    now = clock or asyncio.get_running_loop().time
    started = now()
    deadline = started + timeout
    while True:
        live = {s.sender_id: s for s in await api.list_senders()}
        statuses = {sid: live.get(sid) for sid in sender_ids}
        moving = tuple(sid for sid, s in statuses.items() if s is not None and s.is_transient)
        if on_round is not None:
            on_round(statuses, moving, now() - started)
        if not moving:
            return Settled(statuses, ())
        remaining = deadline - now()
        if remaining <= 0:
            return Settled(statuses, moving)
        await sleep(min(interval, remaining))
        interval = min(interval * 2, max_interval)
