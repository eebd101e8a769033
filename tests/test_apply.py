"""reconciler.apply: executing a plan through a client, and waiting for senders to settle.

The API here is an in-memory fake that behaves as the Senders API does where apply depends on it
(partial merges, 409 for a second sender with the same number, 404 for a gone sid), with hooks to
hold writes until the test lets them go and to make chosen calls fail. No clock, no sleeps: the
tests wait on events, and ``wait_until_settled`` gets a fake clock and sleep.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from reconciler.apply import ApplyReport, apply_plan, is_duplicate, wait_until_settled
from reconciler.errors import ApiError
from reconciler.models import DesiredSender, LiveSender
from reconciler.plan import Plan, build_plan
from reconciler.render.report import INTERRUPTED, interrupted_after_writes, report_summary
from reconciler.render.words import outcome_message
from tests.factories import A, B, C, desired, number, sid_of, state

T = TypeVar("T")
#: A guard against a hang: every test here finishes in milliseconds when apply behaves.
GUARD_SECONDS = 10


class FakeApi:
    """An in-memory Senders API. ``senders`` holds the API's JSON of each sender, by sender id."""

    def __init__(self, *senders: dict[str, Any]):
        self.senders: dict[str, dict[str, Any]] = {}
        for s in senders:
            self.add(s)
        self.writes: list[tuple[str, str]] = []  # (action, sender id), in the order they arrived
        self.reads = 0
        #: When set, writes wait for it: they are in flight until the test opens it.
        self.gate: asyncio.Event | None = None
        #: Errors raised for (action, sender id) before anything is changed.
        self.fail: dict[tuple[str, str], ApiError] = {}
        #: Errors raised for (action, sender id) once the write is applied: its answer is lost.
        self.lose: dict[tuple[str, str], ApiError] = {}
        #: Sender ids whose writes are answered as accepted but change nothing.
        self.ignore_writes: set[str] = set()
        #: A new display name goes to Meta's review instead of replacing the name, as on Twilio.
        self.review_names = False
        #: Per sender id: the statuses the next list reads show, one per read.
        self.statuses: dict[str, list[str]] = {}
        self.list_error: ApiError | None = None
        #: Errors for the next list reads, one per read, before ``list_error``.
        self.list_errors: list[ApiError] = []
        self.update_reply: dict[str, Any] = {}
        self._started: dict[int, asyncio.Event] = {}

    def add(self, sender: dict[str, Any]) -> dict[str, Any]:
        record = {"sid": sid_of(sender["sender_id"]), "status": "ONLINE", **copy.deepcopy(sender)}
        self.senders[record["sender_id"]] = record
        return record

    def live(self) -> list[LiveSender]:
        return [LiveSender.model_validate(s) for s in self.senders.values()]

    async def started(self, n: int) -> None:
        """Until ``n`` writes have arrived."""
        if len(self.writes) < n:
            await self._started.setdefault(n, asyncio.Event()).wait()

    async def _arrive(self, action: str, sender_id: str) -> None:
        self.writes.append((action, sender_id))
        for n, event in self._started.items():
            if len(self.writes) >= n:
                event.set()
        if self.gate is not None:
            await self.gate.wait()
        error = self.fail.get((action, sender_id))
        if error is not None:
            raise error

    def _by_sid(self, sid: str) -> dict[str, Any] | None:
        return next((s for s in self.senders.values() if s["sid"] == sid), None)

    def _merge(self, record: dict[str, Any], body: dict[str, Any]) -> None:
        for section, fields in body.items():
            if section == "sender_id":
                continue
            target = record.setdefault(section, {})
            for name, value in fields.items():
                if self.review_names and section == "profile" and name == "name" and target.get("name") not in (None, value):
                    record["pending_display_name"], record["pending_display_name_status"] = value, "PENDING_REVIEW"
                else:
                    target[name] = value

    # ---- what apply calls

    async def list_senders(self) -> list[LiveSender]:
        self.reads += 1
        if self.list_errors:
            raise self.list_errors.pop(0)
        if self.list_error is not None:
            raise self.list_error
        for sender_id, script in self.statuses.items():
            if script and sender_id in self.senders:
                self.senders[sender_id]["status"] = script.pop(0)
        return self.live()

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        sender_id = body["sender_id"]
        await self._arrive("create", sender_id)
        if sender_id in self.senders:
            raise ApiError("Sender already exists", status=409, code=63110)
        record: dict[str, Any] = {"sid": sid_of(sender_id), "sender_id": sender_id, "status": "CREATING"}
        self._merge(record, body)
        if sender_id not in self.ignore_writes:
            self.senders[sender_id] = record
        self._answer("create", sender_id)
        return copy.deepcopy(record)

    async def update(self, sid: str, body: dict[str, Any]) -> dict[str, Any]:
        record = self._by_sid(sid)
        await self._arrive("update", record["sender_id"] if record else sid)
        if record is None:
            raise ApiError("The requested resource was not found", status=404, code=20404)
        if record["sender_id"] not in self.ignore_writes:
            self._merge(record, body)
        self._answer("update", record["sender_id"])
        return {**copy.deepcopy(record), **self.update_reply}

    async def delete(self, sid: str) -> None:
        record = self._by_sid(sid)
        await self._arrive("delete", record["sender_id"] if record else sid)
        if record is None:
            raise ApiError("The requested resource was not found", status=404, code=20404)
        if record["sender_id"] not in self.ignore_writes:
            del self.senders[record["sender_id"]]
        self._answer("delete", record["sender_id"])

    def _answer(self, action: str, sender_id: str) -> None:
        error = self.lose.get((action, sender_id))
        if error is not None:
            raise error


def run(coro: Coroutine[Any, Any, T]) -> T:
    async def guarded() -> T:
        return await asyncio.wait_for(coro, GUARD_SECONDS)

    return asyncio.run(guarded())


def plan_for(api: FakeApi, *wanted: DesiredSender, allow_delete: bool = False) -> Plan:
    return build_plan(state(*wanted), api.live(), allow_delete=allow_delete)


def named(i: int, **profile: Any) -> DesiredSender:
    return desired(number(i), profile={"name": f"Shop {i}", **profile})


def results(report: ApplyReport) -> list[str]:
    return [o.result for o in report.outcomes]


# --------------------------------------------------------------------------- bookkeeping


def test_every_action_is_reported_once_in_plan_order() -> None:
    api = FakeApi(*({"sender_id": number(i), "profile": {"name": f"Shop {i}", "about": "old"}} for i in range(300)))
    plan = plan_for(api, *(named(i, about="new") for i in range(300)))
    seen: list[str] = []
    report = run(apply_plan(plan, api, concurrency=25, on_outcome=lambda o: seen.append(o.sender_id)))
    assert [o.sender_id for o in report.outcomes] == [a.sender_id for a in plan.actions]
    assert results(report) == ["done"] * 300 and all(o.confirmed for o in report.outcomes)
    assert sorted(seen) == sorted(a.sender_id for a in plan.actions)
    assert report.ok and not report.interrupted and api.reads == 1  # one confirming read for all
    assert report_summary(report) == "Apply complete: 300 done."


def test_an_empty_plan_sends_nothing() -> None:
    api = FakeApi()
    report = run(apply_plan(plan_for(api), api, concurrency=5))
    assert report.outcomes == [] and report.ok and api.writes == [] and api.reads == 0


def test_gated_deletes_are_not_sent() -> None:
    api = FakeApi({"sender_id": C, "profile": {"name": "Old"}})
    report = run(apply_plan(plan_for(api), api, concurrency=5))
    assert report.outcomes == [] and api.writes == [] and C in api.senders


def test_a_failed_action_does_not_stop_the_others() -> None:
    api = FakeApi()
    api.fail[("create", B)] = ApiError("Invalid profile", status=400, code=21211)
    report = run(apply_plan(plan_for(api, desired(A, profile={"name": "A"}), desired(B, profile={"name": "B"}),
                                     desired(C, profile={"name": "C"})), api, concurrency=1))
    by_id = {o.sender_id: o for o in report.outcomes}
    assert [by_id[s].result for s in (A, B, C)] == ["done", "failed", "done"]
    error = by_id[B].error
    assert error is not None and (error.status, error.code, error.sender_id) == (400, 21211, B)
    assert outcome_message(by_id[B]) == "Invalid profile" and B not in api.senders
    assert not report.ok and report_summary(report) == "Apply finished with errors: 2 done, 1 failed."


def test_an_update_whose_display_name_the_api_refused_fails() -> None:
    api = FakeApi({"sender_id": A, "profile": {"name": "Old"}})
    api.update_reply = {"display_name_status": "error"}
    (outcome,) = run(apply_plan(plan_for(api, desired(A, profile={"name": "New"})), api, concurrency=1)).outcomes
    assert outcome.result == "failed" and "display_name_status: error" in outcome_message(outcome)


class _DeclinesWithOthers(FakeApi):
    """Twilio's two answers to a declined name: 202 ``display_name_status: error`` beside other fields, and
    400 / 63124 with Meta's reason when the name is alone."""

    async def update(self, sid: str, body: dict[str, Any]) -> dict[str, Any]:
        if body == {"profile": {"name": "Cheap Pills"}}:
            await self._arrive("update", A)
            raise ApiError("The display name 'Cheap Pills' was declined by Meta: Promotional content", status=400,
                           code=63124)
        name = body.get("profile", {}).get("name")
        reply = await super().update(sid, {**body, "profile": {k: v for k, v in body["profile"].items() if k != "name"}})
        return {**reply, "display_name_status": "error"} if name else reply


def test_a_name_refused_beside_other_fields_is_sent_alone_for_metas_reason() -> None:
    api = _DeclinesWithOthers({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    plan = plan_for(api, desired(A, profile={"name": "Cheap Pills", "about": "new"}))
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert api.writes == [("update", A), ("update", A)] and api.senders[A]["profile"]["about"] == "new"
    assert outcome.result == "failed" and outcome.error is not None and outcome.error.code == 63124
    assert "Promotional content" in outcome_message(outcome)


def test_a_name_taken_when_sent_alone_is_an_update_done() -> None:
    api = FakeApi({"sender_id": A, "profile": {"name": "Old"}})
    replies = [{"display_name_status": "error"}, {"display_name_status": "updating"}]
    original = api.update

    async def update(sid: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await original(sid, body)
        return {**reply, **replies.pop(0)}

    api.update = update  # type: ignore[method-assign]
    (outcome,) = run(apply_plan(plan_for(api, desired(A, profile={"name": "New", "about": "x"})), api,
                                concurrency=1, confirm=False)).outcomes
    assert (outcome.result, outcome.detail, outcome.renamed) == ("done", "updated", True) and not replies


# --------------------------------------------------------------------------- stop and abort


def test_stop_lets_in_flight_writes_finish_and_starts_no_more() -> None:
    async def go() -> tuple[FakeApi, ApplyReport]:
        api, stop = FakeApi(), asyncio.Event()
        plan = plan_for(api, *(named(i) for i in range(5)))
        api.gate = asyncio.Event()
        task = asyncio.create_task(apply_plan(plan, api, concurrency=2, stop=stop))
        await api.started(2)
        stop.set()
        api.gate.set()
        return api, await task

    api, report = run(go())
    assert len(api.writes) == 2 and len(api.senders) == 2
    assert results(report) == ["done", "done", "not_started", "not_started", "not_started"]
    assert all(o.confirmed for o in report.outcomes[:2])  # the writes that finished are still confirmed
    assert report.interrupted and not report.ok
    assert report_summary(report) == "Apply interrupted: 2 done, 3 not started."


@pytest.mark.parametrize("stop_first", [True, False], ids=["stop-then-abort", "abort-alone"])
def test_abort_cancels_in_flight_writes_and_reports_every_action(stop_first: bool) -> None:
    async def go() -> tuple[FakeApi, ApplyReport]:
        api, stop, abort = FakeApi(), asyncio.Event(), asyncio.Event()
        plan = plan_for(api, *(named(i) for i in range(6)))
        api.gate = asyncio.Event()  # never opens: the writes in flight can only be cancelled
        task = asyncio.create_task(apply_plan(plan, api, concurrency=2, stop=stop, abort=abort))
        await api.started(2)
        if stop_first:
            stop.set()
        abort.set()
        return api, await task

    api, report = run(go())
    assert len(api.writes) == 2 and api.senders == {}
    assert results(report) == ["interrupted", "interrupted"] + ["not_started"] * 4
    assert "may or may not have applied it" in outcome_message(report.outcomes[0])
    assert report.interrupted and not report.ok and api.reads == 0  # no confirming read after an abort
    assert report_summary(report) == "Apply interrupted: 0 done, 4 not started, 2 interrupted (outcome unknown)."


def test_an_interrupt_after_the_writes_says_what_they_did_across_accounts() -> None:
    async def go() -> list[ApplyReport]:
        one, two = FakeApi(), FakeApi()
        two.fail[("create", B)] = ApiError("Bad Gateway", status=502, outcome_unknown=True)
        first = await apply_plan(plan_for(one, named(1), named(2)), one, concurrency=2)
        second = await apply_plan(plan_for(two, desired(B, profile={"name": "B"})), two, concurrency=1)
        stopped, stop = FakeApi(), asyncio.Event()
        stop.set()
        third = await apply_plan(plan_for(stopped, named(3)), stopped, concurrency=1, stop=stop)
        return [first, second, third]

    first, second, third = run(go())
    assert interrupted_after_writes([first, second, third]) == (
        "interrupted after the writes (2 done, 1 not applied, 1 not started); the report may be cut short: "
        "'reconciler plan' shows where the senders stand")
    # Nothing sent anywhere: then, and only then, nothing was changed.
    assert interrupted_after_writes([third, ApplyReport()]) == INTERRUPTED == "interrupted: nothing was changed"


# --------------------------------------------------------------------------- retried writes


def test_a_create_that_exists_already_is_adopted_and_brought_to_the_files_state() -> None:
    api = FakeApi()
    plan = plan_for(api, desired(A, profile={"name": "Acme", "about": "new"}))
    # An earlier attempt made the sender, but its response was lost.
    made = api.add({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert (outcome.action, outcome.result, outcome.sid) == ("create", "done", made["sid"])
    assert outcome_message(outcome) == "existed already; updated to match the file" and outcome.confirmed
    assert api.writes == [("create", A), ("update", A)] and api.senders[A]["profile"]["about"] == "new"
    assert len(api.senders) == 1


def test_a_create_that_exists_already_and_matches_sends_nothing_more() -> None:
    api = FakeApi()
    plan = plan_for(api, desired(A, profile={"name": "Acme"}))
    api.add({"sender_id": A, "profile": {"name": "Acme"}})
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert outcome.result == "done" and outcome_message(outcome) == "existed already and matches the file"
    assert api.writes == [("create", A)]


@pytest.mark.parametrize("code", [63100, 63110, None])
def test_a_create_refused_409_with_any_duplicate_code_is_adopted(code: int | None) -> None:
    api = FakeApi()
    plan = plan_for(api, desired(A, profile={"name": "Acme"}))
    made = api.add({"sender_id": A, "profile": {"name": "Acme"}})
    api.fail[("create", A)] = ApiError("Sender already registered", status=409, code=code)
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert (outcome.result, outcome.detail, outcome.sid) == ("done", "adopted_same", made["sid"])


def test_a_409_for_a_display_name_in_review_is_no_duplicate() -> None:
    assert is_duplicate(ApiError("exists", status=409, code=63110))
    assert not is_duplicate(ApiError("A display name change is already in progress", status=409, code=63128))
    assert not is_duplicate(ApiError("bad", status=400, code=63100))


def test_metas_refusals_of_a_display_name_are_worded_with_their_reason() -> None:
    api = FakeApi()
    api.add({"sender_id": A, "profile": {"name": "Acme"}})
    plan = plan_for(api, desired(A, profile={"name": "Cheap Pills"}))
    api.fail[("update", A)] = ApiError("The display name 'Cheap Pills' was declined by Meta: Promotional content",
                                       status=400, code=63124)
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert outcome.result == "failed"
    assert outcome_message(outcome) == ("Meta declined the display name (Twilio 63124; Meta's reason as the API gives "
                                        "it: The display name 'Cheap Pills' was declined by Meta: Promotional content)")
    api.fail[("update", A)] = ApiError("A display name change is already in progress for this sender", status=409,
                                       code=63128)
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert outcome_message(outcome).startswith("a display-name change is already in Meta's review (Twilio 63128")


def test_a_conflict_for_a_sender_that_is_not_listed_is_unknown_not_failed() -> None:
    api = FakeApi()
    api.fail[("create", A)] = ApiError("Sender already exists", status=409, code=63110)
    (outcome,) = run(apply_plan(plan_for(api, desired(A, profile={"name": "Acme"})), api, concurrency=1)).outcomes
    # The API says it exists, its list does not show it (twice): only a later read can tell which is right.
    assert (outcome.result, outcome.detail) == ("unknown", "unread") and api.reads == 2
    assert outcome_message(outcome) == (
        "the API says this sender exists already (HTTP 409), but it could not be compared with the file (it is not "
        "in the list of senders); outcome unknown: 'reconciler plan' shows where it stands")


def retried_create_met_409(api: FakeApi) -> None:
    """A create whose first attempt was applied but answered 5xx, retried and refused 409: the client's error
    for it is a 409 that may have been applied (``outcome_unknown``)."""
    conflict = ApiError("Sender already exists", status=409, code=63100, outcome_unknown=True)
    api.lose[("create", A)] = conflict


@pytest.mark.parametrize("read_error", [
    ApiError("Internal Server Error", status=500, code=20500),
    ApiError("Too Many Requests", status=429, code=20429),  # a 4xx, but answering a read, not the write
    ApiError("connection to 127.0.0.1 failed: ReadError (after 3 attempts)"),
], ids=["5xx", "429", "transport"])
def test_a_create_whose_adopting_read_fails_is_settled_by_the_confirming_read(read_error: ApiError) -> None:
    api = FakeApi()
    retried_create_met_409(api)
    api.list_errors = [read_error]  # the read that would adopt the sender; the confirming read works
    report = run(apply_plan(plan_for(api, desired(A, profile={"name": "Acme"})), api, concurrency=1))
    (outcome,) = report.outcomes
    assert (outcome.result, outcome.detail, outcome.confirmed) == ("done", "adopted_same", True)
    assert outcome.sid == sid_of(A) and report.ok and api.reads == 2
    assert report_summary(report) == "Apply complete: 1 done."


def test_a_create_whose_adopting_and_confirming_reads_fail_is_unknown_never_failed() -> None:
    api = FakeApi()
    retried_create_met_409(api)
    api.list_error = ApiError("Too Many Requests", status=429, code=20429)
    report = run(apply_plan(plan_for(api, desired(A, profile={"name": "Acme"})), api, concurrency=1))
    (outcome,) = report.outcomes
    assert (outcome.result, outcome.detail) == ("unknown", "unread") and report.confirm_error is api.list_error
    assert outcome_message(outcome).startswith("the API says this sender exists already (HTTP 409), but it could "
                                               "not be compared with the file (HTTP 429 / Twilio 20429: Too Many")
    assert report_summary(report) == "Apply finished with errors: 0 done, 1 outcome unknown."
    assert A in api.senders  # it was applied all along: "failed" would have been false


def test_a_create_that_exists_but_differs_after_an_unread_409_is_not_applied() -> None:
    api = FakeApi()
    plan = plan_for(api, desired(A, profile={"name": "Acme"}))
    api.add({"sender_id": A, "profile": {"name": "Someone else's"}})  # made after the plan, by someone else
    api.fail[("create", A)] = ApiError("Sender already exists", status=409, code=63100)
    api.list_errors = [ApiError("Internal Server Error", status=500, code=20500)]
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert (outcome.result, outcome.detail) == ("not_applied", "unread")
    assert outcome_message(outcome).endswith("and the API's list does not show the change: not applied; a re-run "
                                             "retries it")


@pytest.mark.parametrize(("error", "landed", "result"), [
    (ApiError("Invalid parameter", status=400, code=21211), False, "failed"),
    (ApiError("Too Many Requests", status=429, code=20429), False, "failed"),
    # A 4xx after an earlier attempt that may have been applied (the client flags it): no refusal of that one.
    (ApiError("Invalid parameter", status=400, code=21211, outcome_unknown=True), True, "done"),
    (ApiError("Invalid parameter", status=400, code=21211, outcome_unknown=True), False, "not_applied"),
    (ApiError("Internal Server Error", status=500, code=20500, outcome_unknown=True), True, "done"),
    (ApiError("Internal Server Error", status=500, code=20500, outcome_unknown=True), False, "not_applied"),
    (ApiError("Bad Gateway", status=502), False, "not_applied"),  # even unflagged, a 5xx is no refusal
    (ApiError("connection to 127.0.0.1 failed: ConnectError"), False, "not_applied"),  # never sent
], ids=["400", "429", "400-after-5xx-landed", "400-after-5xx", "5xx-landed", "5xx", "5xx-unflagged", "unsent"])
def test_only_a_4xx_answering_the_write_is_failed(error: ApiError, landed: bool, result: str) -> None:
    api = FakeApi({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    plan = plan_for(api, desired(A, profile={"name": "Acme", "about": "new"}))
    (api.lose if landed else api.fail)[("update", A)] = error
    report = run(apply_plan(plan, api, concurrency=1))
    (outcome,) = report.outcomes
    assert outcome.result == result and (api.senders[A]["profile"]["about"] == "new") == landed
    assert api.reads == (0 if result == "failed" else 1)  # a refusal needs no read; anything else is re-checked
    assert report.summary()["failed"] == (result == "failed")


def test_an_unsent_write_the_list_shows_done_already_is_done() -> None:
    api = FakeApi({"sender_id": A, "profile": {"name": "Acme", "about": "old"}})
    plan = plan_for(api, desired(A, profile={"name": "Acme", "about": "new"}))
    api.senders[A]["profile"]["about"] = "new"  # someone else made the change meanwhile
    api.fail[("update", A)] = ApiError("connection to 127.0.0.1 failed: ConnectError")
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert (outcome.result, outcome.detail, outcome.confirmed) == ("done", "already_same", True)
    assert outcome_message(outcome) == "already matches the file (the API's list shows it)"


def test_a_sender_that_exists_in_another_business_account_is_not_adopted() -> None:
    api = FakeApi()
    plan = plan_for(api, desired(A, configuration={"waba_id": "222"}, profile={"name": "Acme"}))
    api.add({"sender_id": A, "configuration": {"waba_id": "111"}, "profile": {"name": "Acme"}})
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert outcome.result == "failed" and "cannot be brought to the file's state" in outcome_message(outcome)
    assert api.writes == [("create", A)] and api.senders[A]["configuration"]["waba_id"] == "111"


def test_a_delete_of_a_sender_gone_already_is_done() -> None:
    api = FakeApi({"sender_id": C, "profile": {"name": "Old"}})
    plan = plan_for(api, allow_delete=True)
    del api.senders[C]  # e.g. an earlier attempt deleted it and its response was lost
    (outcome,) = run(apply_plan(plan, api, concurrency=1)).outcomes
    assert (outcome.result, outcome_message(outcome), outcome.confirmed) == ("done", "already deleted", True)


# --------------------------------------------------------------------------- confirmation


def test_outcomes_are_confirmed_by_the_list_not_by_the_write_responses() -> None:
    api = FakeApi({"sender_id": A, "profile": {"name": "Acme", "about": "old"}}, {"sender_id": C, "profile": {"name": "C"}})
    plan = plan_for(api, desired(A, profile={"name": "Acme", "about": "new"}), desired(B, profile={"name": "Beta"}),
                    allow_delete=True)
    api.ignore_writes = {A, B, C}  # every write answered as accepted; nothing changes
    report = run(apply_plan(plan, api, concurrency=3))
    assert results(report) == ["done", "done", "done"] and [o.confirmed for o in report.outcomes] == [False] * 3
    by_id = {o.sender_id: o for o in report.outcomes}
    assert outcome_message(by_id[A]).endswith("but the API's list shows the sender not there or still different")
    assert outcome_message(by_id[B]).endswith("not there or still different")
    assert outcome_message(by_id[C]).endswith("but the API's list shows the sender still listed")
    assert not report.ok and report.summary()["unconfirmed"] == 3 and report.summary()["done"] == 0


def test_confirmation_records_final_statuses_and_counts_a_name_in_review_as_shown() -> None:
    api = FakeApi({"sender_id": A, "profile": {"name": "Old Name"}})
    api.review_names = True
    report = run(apply_plan(plan_for(api, desired(A, profile={"name": "New Name"}), desired(B, profile={"name": "B"})),
                            api, concurrency=2))
    by_id = {o.sender_id: o for o in report.outcomes}
    assert api.senders[A]["profile"]["name"] == "Old Name"  # the new name waits for Meta
    assert by_id[A].confirmed is True and by_id[A].final_status == "ONLINE"
    assert by_id[B].confirmed is True and by_id[B].final_status == "CREATING"
    assert report.ok


def test_a_failed_confirming_read_is_reported_and_the_apply_is_not_ok() -> None:
    api = FakeApi()
    plan = plan_for(api, desired(A, profile={"name": "Acme"}))
    api.list_error = ApiError("Internal Server Error", status=500, code=20500)
    report = run(apply_plan(plan, api, concurrency=1))
    assert results(report) == ["done"] and report.outcomes[0].confirmed is None
    assert report.confirm_error is api.list_error and not report.ok


def test_without_confirmation_no_read_is_made() -> None:
    api = FakeApi()
    report = run(apply_plan(plan_for(api, desired(A, profile={"name": "Acme"})), api, concurrency=1, confirm=False))
    assert results(report) == ["done"] and report.outcomes[0].confirmed is None and api.reads == 0 and report.ok


# --------------------------------------------------------------------------- waiting


class FakeClock:
    """Time that moves only when apply sleeps: the test sees every wait, and none takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_waiting_ends_when_no_sender_is_transient_and_backs_off_between_reads() -> None:
    api = FakeApi({"sender_id": A}, {"sender_id": B}, {"sender_id": C, "status": "CREATING"})
    api.statuses = {A: ["CREATING"] * 6 + ["ONLINE"], B: ["VERIFYING", "PENDING_VERIFICATION"]}
    clock = FakeClock()
    settled = run(wait_until_settled(api, [A, B, "whatsapp:+15017129999"], timeout=100, interval=1, max_interval=4,
                                     clock=clock, sleep=clock.sleep))
    assert clock.sleeps == [1, 2, 4, 4, 4, 4] and api.reads == 7
    assert settled.timed_out == ()
    statuses = {k: v.status if v else None for k, v in settled.statuses.items()}
    # C is transient but not waited for; a sender that is not listed is not waited for either.
    assert statuses == {A: "ONLINE", B: "PENDING_VERIFICATION", "whatsapp:+15017129999": None}


def test_waiting_stops_at_the_timeout_and_names_the_senders_still_moving() -> None:
    api = FakeApi({"sender_id": A, "status": "CREATING"}, {"sender_id": B})
    clock = FakeClock()
    settled = run(wait_until_settled(api, [A, B], timeout=5, interval=1, clock=clock, sleep=clock.sleep))
    assert clock.sleeps == [1, 2, 2]  # the last wait is cut to the time left
    assert settled.timed_out == (A,) and clock.now == 5
    assert {k: v.status if v else None for k, v in settled.statuses.items()} == {A: "CREATING", B: "ONLINE"}


def test_nothing_to_wait_for_reads_once() -> None:
    api = FakeApi({"sender_id": A})
    clock = FakeClock()
    settled = run(wait_until_settled(api, [A], timeout=0, clock=clock, sleep=clock.sleep))
    assert settled.timed_out == () and clock.sleeps == [] and api.reads == 1
