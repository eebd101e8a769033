"""Pool actions applied: out of the old service, into the new one, with outcomes as truthful as for senders.

The APIs here are in-memory fakes: senders as the Senders API keeps them, and pools with the rules the
notes assume for channel senders (one service per sender; an add answered 21710 when the sender is in
that service, 21712 when it is in another; a remove answered 404 when it is not in that pool). Hooks make
chosen calls fail before they are applied, or lose their answer after. No clock, no sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from reconciler.apply import ApplyReport, Outcome, apply_plan
from reconciler.errors import ApiError
from reconciler.models import LivePools, LiveSender, Service
from reconciler.plan import Plan, build_plan
from reconciler.pool_apply import PoolMover
from reconciler.render.words import outcome_message
from tests.factories import A, B, desired, sid_of, state

T = TypeVar("T")
SALES, SUPPORT, OTHER = ("MG" + c * 32 for c in "abc")
NAMES = {SALES: "Sales", SUPPORT: "Support line", OTHER: "Other"}
LOST = ApiError("Internal Server Error", status=500, code=20500, outcome_unknown=True)
REFUSED = ApiError("Forbidden", status=403, code=20003)


def run(coro: Coroutine[Any, Any, T]) -> T:
    async def guarded() -> T:
        return await asyncio.wait_for(coro, 10)  # a guard against a hang only

    return asyncio.run(guarded())


class Senders:
    """Just enough of the Senders API: creates get a SID from their number; a create may be refused."""

    def __init__(self, *sender_ids: str):
        self.senders = {s: {"sid": sid_of(s), "sender_id": s, "status": "ONLINE"} for s in sender_ids}
        self.refuse_create = False
        self.created: list[str] = []

    async def list_senders(self) -> list[LiveSender]:
        return [LiveSender.model_validate(s) for s in self.senders.values()]

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.refuse_create:
            raise ApiError("refused", status=400, code=63100)
        self.created.append(body["sender_id"])
        self.senders[body["sender_id"]] = record = {"sid": sid_of(body["sender_id"]), "sender_id": body["sender_id"],
                                                    "status": "CREATING"}
        return dict(record)

    async def update(self, sid: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"sid": sid}

    async def delete(self, sid: str) -> None:
        return None


class Pools:
    """Services and their pools: ``members`` maps a sender SID to the service holding it (``Pools(A=SALES)``)."""

    def __init__(self, **members: str):
        self.members = {sid_of({"A": A, "B": B}[letter]): service for letter, service in members.items()}
        self.calls: list[tuple[str, str, str]] = []
        self.fail: dict[tuple[str, str], ApiError] = {}  # raised before the change
        self.lose: dict[tuple[str, str], ApiError] = {}  # raised after it: the answer is lost
        self.read_error: ApiError | None = None
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def read(self) -> LivePools:
        self.reads += 1
        if self.read_error is not None:
            raise self.read_error
        pools: dict[str, list[str]] = {}
        for sender, service in self.members.items():
            pools.setdefault(service, []).append(sender)
        return LivePools.of([Service(sid, name) for sid, name in NAMES.items()], pools)

    async def _arrive(self, op: str, service: str, sender: str) -> None:
        self.calls.append((op, service, sender))
        if self.gate is not None:
            await self.gate.wait()
        if (op, sender) in self.fail:
            raise self.fail[(op, sender)]

    async def add(self, service: str, sender: str) -> None:
        await self._arrive("add", service, sender)
        held = self.members.get(sender)
        if held is not None:
            raise ApiError("Already in this service" if held == service else "In another service", status=409,
                           code=21710 if held == service else 21712)
        self.members[sender] = service
        if ("add", sender) in self.lose:
            raise self.lose[("add", sender)]

    async def remove(self, service: str, sender: str) -> None:
        await self._arrive("remove", service, sender)
        if self.members.get(sender) != service:
            raise ApiError("The requested resource was not found", status=404, code=20404)
        del self.members[sender]
        if ("remove", sender) in self.lose:
            raise self.lose[("remove", sender)]


def planned(pools: Pools, senders: Senders, **services: str | None) -> Plan:
    """The plan that puts each sender (by letter: ``A="Sales"``) in the service named, creating those not live."""
    live = {s: {} if s in senders.senders else {"profile": {"name": "Shop"}} for s in (A, B)}
    wanted = [desired(sender, messaging_service=service, **live[sender])
              for sender, service in ((A, services.get("A", "-")), (B, services.get("B", "-"))) if service != "-"]
    return build_plan(state(*wanted), run(senders.list_senders()), pools=run(pools.read()))


def apply(plan: Plan, senders: Senders, pools: Pools, **kw: Any) -> ApplyReport:
    return run(apply_plan(plan, senders, concurrency=4, pools=pools, **kw))


def pool_outcome(report: ApplyReport, sender_id: str = A) -> Outcome:
    return next(o for o in report.outcomes if o.action == "pool" and o.sender_id == sender_id)


def test_a_move_leaves_the_old_service_then_joins_the_new() -> None:
    senders, pools = Senders(A), Pools(A=SUPPORT)
    report = apply(planned(pools, senders, A="Sales"), senders, pools)
    assert pools.calls == [("remove", SUPPORT, sid_of(A)), ("add", SALES, sid_of(A))]
    outcome = pool_outcome(report)
    assert (outcome.result, outcome.detail, outcome.sid, outcome.confirmed) == ("done", "pooled", sid_of(A), True)
    assert report.ok and outcome_message(outcome) == f"moved from {SUPPORT} (Support line) to {SALES} (Sales)"
    assert planned(pools, senders, A="Sales").actions == ()  # a re-run has nothing left to do


def test_null_takes_a_sender_out_of_every_service() -> None:
    senders, pools = Senders(A), Pools(A=OTHER)
    outcome = pool_outcome(apply(planned(pools, senders, A=None), senders, pools))
    assert pools.calls == [("remove", OTHER, sid_of(A))] and pools.members == {}
    assert outcome_message(outcome) == f"left {OTHER} (Other); the sender is in no Messaging Service now"


def test_a_create_joins_its_service_with_the_sid_it_returned() -> None:
    senders, pools = Senders(), Pools()
    plan = planned(pools, senders, A="Support line")
    assert [(a.action, a.sid) for a in plan.actions] == [("create", None), ("pool", None)]
    report = apply(plan, senders, pools)
    assert senders.created == [A] and pools.calls == [("add", SUPPORT, sid_of(A))]
    outcome = pool_outcome(report)
    assert (outcome.result, outcome.sid, outcome.confirmed) == ("done", sid_of(A), True)
    assert outcome_message(outcome) == f"joined {SUPPORT} (Support line)"


def test_a_create_refused_leaves_nothing_to_join() -> None:
    senders, pools = Senders(), Pools()
    senders.refuse_create = True
    report = apply(planned(pools, senders, A="Sales"), senders, pools)
    outcome = pool_outcome(report)
    assert pools.calls == [] and (outcome.result, outcome.detail) == ("not_applied", "no_sender")
    assert outcome_message(outcome) == (f"not sent: the sender was not created, so it could not join {SALES} (Sales); "
                                        "a re-run adds it")


def test_a_state_that_already_holds_is_done() -> None:
    """A remove answered 404 and an add answered 21710 leave the sender where the plan wants it."""
    senders, pools = Senders(A, B), Pools(A=SUPPORT)
    plan = planned(pools, senders, A="Sales", B="Other")
    pools.members = {sid_of(A): SALES, sid_of(B): OTHER}  # someone did it meanwhile
    report = apply(plan, senders, pools)
    assert [(o.sender_id, o.result, o.detail, o.confirmed) for o in report.outcomes] == [
        (A, "done", "already_pooled", True), (B, "done", "already_pooled", True)]
    assert outcome_message(pool_outcome(report)) == f"already in {SALES} (Sales)"


def test_a_sender_in_another_service_is_a_failure_that_names_it() -> None:
    senders, pools = Senders(A), Pools()
    plan = planned(pools, senders, A="Sales")
    pools.members[sid_of(A)] = OTHER  # moved by hand since the plan
    outcome = pool_outcome(apply(plan, senders, pools))
    assert (outcome.result, outcome.detail) == ("failed", "refused")
    assert outcome.error is not None and outcome.error.code == 21712
    assert f"the sender is in another Messaging Service, {OTHER} (Other)" in outcome.error.message
    assert pools.members == {sid_of(A): OTHER}  # nothing was guessed


def test_a_join_refused_after_the_leave_says_the_sender_left() -> None:
    senders, pools = Senders(A), Pools(A=SUPPORT)
    pools.fail[("add", sid_of(A))] = REFUSED
    outcome = pool_outcome(apply(planned(pools, senders, A="Sales"), senders, pools))
    assert outcome.result == "failed" and outcome.error is not None
    assert outcome.error.message == f"it left {SUPPORT}, but could not join {SALES}: Forbidden"


def test_a_lost_answer_is_unknown_until_the_pools_are_read() -> None:
    senders, pools = Senders(A), Pools()
    pools.lose[("add", sid_of(A))] = LOST  # applied, answer lost
    outcome = pool_outcome(apply(planned(pools, senders, A="Sales"), senders, pools))
    assert (outcome.result, outcome.detail, outcome.confirmed) == ("done", "settled", True)
    assert outcome.error is LOST or (outcome.error is not None and outcome.error.code == 20500)


def test_a_lost_answer_that_did_not_land_is_not_applied() -> None:
    senders, pools = Senders(A), Pools()
    pools.fail[("add", sid_of(A))] = LOST  # never applied, answer lost
    outcome = pool_outcome(apply(planned(pools, senders, A="Sales"), senders, pools))
    assert (outcome.result, outcome.detail) == ("not_applied", "lost")


def test_without_a_confirming_read_a_lost_answer_stays_unknown() -> None:
    senders, pools = Senders(A), Pools()
    pools.fail[("add", sid_of(A))] = LOST
    pools.read_error = REFUSED
    plan = planned(Pools(), senders, A="Sales")
    report = apply(plan, senders, pools)
    assert pool_outcome(report).result == "unknown" and report.confirm_error is REFUSED and not report.ok


def test_a_stop_before_the_create_ends_starts_no_join() -> None:
    senders, pools = Senders(), Pools()
    plan = planned(pools, senders, A="Sales")
    stop = asyncio.Event()

    class Stopping(Senders):
        async def create(self, body: dict[str, Any]) -> dict[str, Any]:
            stop.set()  # a stop request while the create is in flight
            return await super().create(body)

    slow = Stopping()
    report = run(apply_plan(plan, slow, concurrency=4, pools=pools, stop=stop))
    assert [(o.action, o.result) for o in report.outcomes] == [("create", "done"), ("pool", "not_started")]
    assert pools.calls == [] and report.interrupted


def test_an_abort_cancels_a_join_in_flight() -> None:
    senders, pools = Senders(A), Pools()
    plan = planned(pools, senders, A="Sales")
    abort = asyncio.Event()
    pools.gate = asyncio.Event()  # never opened: the add stays in flight

    async def go() -> ApplyReport:
        task = asyncio.create_task(apply_plan(plan, senders, concurrency=4, pools=pools, abort=abort))
        while not pools.calls:
            await asyncio.sleep(0)
        abort.set()
        return await task

    report = run(go())
    assert [(o.action, o.result, o.detail) for o in report.outcomes] == [("pool", "interrupted", "in_flight")]


def test_the_pools_are_read_once_to_name_the_other_service() -> None:
    senders, pools = Senders(A, B), Pools()
    plan = planned(pools, senders, A="Sales", B="Sales")
    pools.members, pools.reads = {sid_of(A): OTHER, sid_of(B): SUPPORT}, 0
    report = apply(plan, senders, pools)
    assert [o.result for o in report.outcomes] == ["failed", "failed"]
    assert pools.reads == 1  # failures are settled by no read: only the lookup of the other services


def test_a_mover_without_a_lookup_keeps_twilio_s_words() -> None:
    pools = Pools()
    pools.members[sid_of(A)] = OTHER
    pools.read_error = REFUSED
    plan = planned(Pools(), Senders(A), A="Sales")
    with pytest.raises(ApiError) as caught:
        run(PoolMover(pools).move(plan.actions[0], sid_of(A)))
    assert caught.value.message == "In another service" and caught.value.code == 21712
