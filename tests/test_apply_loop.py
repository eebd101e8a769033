"""apply_plan's bookkeeping: every action reported once, stop and abort honoured, any number of actions."""

from __future__ import annotations

import asyncio

from reconciler.apply import apply_plan
from reconciler.diff import FieldChange
from reconciler.plan import Action, Plan


def _plan(n: int) -> Plan:
    return Plan(actions=tuple(
        Action("update", f"whatsapp:+1501712{i:04d}", sid=f"XE{i:032x}",
               changes=(FieldChange("profile.about", "a", "b"),), body={"profile": {"about": "b"}})
        for i in range(n)
    ))


class FakeApi:
    def __init__(self, gate: asyncio.Event | None = None):
        self.gate = gate
        self.started = 0

    async def list_senders(self):
        return []

    async def create(self, body):
        raise AssertionError("no creates here")

    async def update(self, sid, body):
        self.started += 1
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)
        return {"sid": sid}

    async def delete(self, sid):
        raise AssertionError("no deletes here")


def test_every_action_is_reported_once():
    seen = []

    async def go():
        return await apply_plan(_plan(300), FakeApi(), concurrency=25, on_outcome=seen.append, confirm=False)

    report = asyncio.run(go())
    assert [o.result for o in report.outcomes] == ["done"] * 300
    assert sorted(o.sender_id for o in seen) == sorted(o.sender_id for o in report.outcomes)
    assert not report.interrupted


def test_an_empty_plan_returns_at_once():
    report = asyncio.run(apply_plan(_plan(0), FakeApi(), concurrency=5, confirm=False))
    assert report.outcomes == [] and report.ok


def test_stop_lets_in_flight_finish_and_starts_nothing_new():
    async def go():
        gate, stop = asyncio.Event(), asyncio.Event()
        api = FakeApi(gate)
        run = asyncio.create_task(apply_plan(_plan(5), api, concurrency=2, stop=stop, confirm=False))
        while api.started < 2:
            await asyncio.sleep(0)
        stop.set()
        gate.set()
        return await run

    report = asyncio.run(go())
    assert [o.result for o in report.outcomes] == ["done", "done", "not_started", "not_started", "not_started"]
    assert report.interrupted


def test_abort_cancels_in_flight_and_reports_every_action():
    async def go():
        gate, abort = asyncio.Event(), asyncio.Event()  # the gate never opens
        api = FakeApi(gate)
        run = asyncio.create_task(apply_plan(_plan(4), api, concurrency=2, abort=abort, confirm=False))
        while api.started < 2:
            await asyncio.sleep(0)
        abort.set()
        return await asyncio.wait_for(run, 5)

    report = asyncio.run(go())
    assert [o.result for o in report.outcomes] == ["interrupted", "interrupted", "not_started", "not_started"]
    assert report.interrupted and not report.ok
