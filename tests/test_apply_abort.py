"""apply_plan under stop and abort requests, with a fake API whose writes wait for the test."""

from __future__ import annotations

import asyncio

from reconciler.apply import apply_plan
from reconciler.models import DesiredSender, DesiredState
from reconciler.plan import build_plan


class SlowApi:
    """Creates block until ``release`` is set; records what was sent."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def list_senders(self):
        return []

    async def create(self, body):
        self.started.append(body["sender_id"])
        await self.release.wait()
        return {"sid": "XE" + "0" * 32}

    async def update(self, sid, body):  # pragma: no cover - not planned here
        raise AssertionError

    async def delete(self, sid):  # pragma: no cover
        raise AssertionError


def plan_of(n: int):
    senders = tuple(DesiredSender(sender_id=f"whatsapp:+1501712{i:04d}", profile={"name": "A"}) for i in range(n))
    return build_plan(DesiredState(senders=senders), [])


def test_abort_while_actions_wait_for_a_slot_reports_them_not_started():
    async def go():
        api, stop, abort = SlowApi(), asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(apply_plan(plan_of(6), api, concurrency=2, stop=stop, abort=abort))
        while len(api.started) < 2:
            await asyncio.sleep(0)
        stop.set()
        abort.set()
        return api, await task

    api, report = asyncio.run(go())
    assert len(api.started) == 2
    assert [o.result for o in report.outcomes].count("interrupted") == 2
    assert [o.result for o in report.outcomes].count("not_started") == 4
    assert report.interrupted and not report.ok
    assert "2 interrupted (outcome unknown)" in report.summary_line()


def test_stop_lets_in_flight_writes_finish_and_starts_no_more():
    async def go():
        api, stop = SlowApi(), asyncio.Event()
        task = asyncio.create_task(apply_plan(plan_of(5), api, concurrency=2, stop=stop, confirm=False))
        while len(api.started) < 2:
            await asyncio.sleep(0)
        stop.set()
        api.release.set()
        return api, await task

    api, report = asyncio.run(go())
    assert len(api.started) == 2
    assert [o.result for o in report.outcomes].count("done") == 2
    assert [o.result for o in report.outcomes].count("not_started") == 3
