"""Pool actions, problems and notices worded the same way in text, Markdown and JSON."""

from __future__ import annotations

import json

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.apply import Outcome
from reconciler.diff import FieldChange
from reconciler.errors import ApiError
from reconciler.models import DesiredState, LivePools, Service
from reconciler.plan import Plan, build_plan
from reconciler.render import render_json, render_markdown, render_text
from reconciler.render.accounts import render_plans_markdown
from reconciler.render.report import outcome_line, render_drift
from reconciler.render.values import show_field, show_service
from reconciler.render.words import outcome_message
from tests.factories import A, B, C, D, desired, live, sid_of, state

SALES, SUPPORT, OTHER = ("MG" + c * 32 for c in "abc")
POOLS = LivePools.of([Service(SALES, "Sales"), Service(SUPPORT, "Support line"), Service(OTHER)],
                     {SUPPORT: [sid_of(A)], OTHER: [sid_of(B)]})


def pool_plan() -> Plan:
    """A moves from Support line to Sales, B leaves Other, C is created into Sales, D names no service."""
    wanted = DesiredState(senders=(
        desired(A, messaging_service="Sales"), desired(B, messaging_service=None),
        desired(C, profile={"name": "Cafe"}, messaging_service=SALES), desired(D, messaging_service="Nope")),
        service_declarations={D: ("senders.yaml", ("senders", 3, "messaging_service"))})
    return build_plan(wanted, [live(A), live(B), live(D)], pools=POOLS)


def test_text_shows_each_service_by_its_sid_and_name() -> None:
    text = render_text(pool_plan())
    assert f"  ~ {A} (pool, {sid_of(A)}, status ONLINE)" in text
    assert f"      ~ messaging_service: {SUPPORT} (Support line) → {SALES} (Sales)" in text
    assert (f"  ~ {B} (pool, {sid_of(B)}, status ONLINE, leaves its Messaging Service and will be in none: nothing can "
            "be sent from it through a service)") in text
    assert f"      ~ messaging_service: {OTHER} → none" in text
    assert f"  ~ {C} (pool, joins once the sender is created)" in text
    assert f"      ~ messaging_service: none → {SALES} (Sales)" in text
    assert (f"  ✗ {D}: messaging_service 'Nope' (senders.yaml): no Messaging Service of the account has this SID "
            "or name") in text
    assert text.rstrip().endswith("Plan: 1 to create, 0 to update, 0 to delete, 3 sender-pool changes. "
                                  "But apply refuses it: 1 sender has a problem (see Problems).")


def test_json_gives_each_service_as_an_object() -> None:
    doc = json.loads(render_json(pool_plan()))
    assert doc["summary"] == {"create": 1, "update": 0, "delete": 0, "pool": 3}
    move = next(a for a in doc["actions"] if a["sender_id"] == A)
    assert move == {"action": "pool", "sender_id": A, "sid": sid_of(A), "allowed": True, "status": "ONLINE",
                    "note": None, "changes": [{"path": "messaging_service",
                                               "before": {"sid": SUPPORT, "friendly_name": "Support line"},
                                               "after": {"sid": SALES, "friendly_name": "Sales"}}]}
    leave = next(a for a in doc["actions"] if a["sender_id"] == B)
    assert leave["changes"][0]["after"] is None and leave["note"].startswith("leaves its Messaging Service")
    [problem] = doc["problems"]
    assert problem["message"].startswith("messaging_service 'Nope' (senders.yaml): no Messaging Service")


def test_markdown_shows_the_move_in_its_table_and_details() -> None:
    md = render_markdown(pool_plan())
    assert f"| ~ | `{A}` | pool | messaging_service |" in md
    assert f"| `messaging_service` | `{SUPPORT} (Support line)` | `{SALES} (Sales)` |" in md
    assert "3 sender-pool changes" in md


def test_several_accounts_count_pool_changes() -> None:
    plans = [AccountPlan(AccountRef("AC" + "1" * 32), pool_plan()), AccountPlan(AccountRef("AC" + "2" * 32), Plan())]
    assert "Plan across 2 accounts: 1 to create, 0 to update, 0 to delete, 3 sender-pool changes" in (
        render_plans_markdown(plans))


def test_a_name_from_the_api_cannot_drive_the_terminal_or_the_comment() -> None:
    hostile = LivePools.of([Service(SALES, "Sales\x1b[2J\n@team [x](https://evil.example)")], {})
    plan = build_plan(state(desired(A, messaging_service=SALES)), [live(A)], pools=hostile)
    text = render_text(plan)
    assert "\x1b" not in text and "\\x1b[2J\\n@team" in text
    md = render_markdown(plan)
    assert "\x1b" not in md and f"`{SALES} (Sales\\x1b[2J\\n@team [x](https://evil.example))` |" in md  # code: no link
    assert "\\u001b" in render_json(plan)


def test_problems_and_notices_about_services() -> None:
    twice = LivePools.of([Service(SALES, "Sales"), Service(OTHER, "Sales")], {SALES: [sid_of(B)], OTHER: [sid_of(B)]})
    plan = build_plan(state(desired(A, messaging_service="Sales"), desired(B, messaging_service=SALES)),
                      [live(A), live(B)], pools=twice)
    text = render_text(plan)
    assert (f"{A}: messaging_service 'Sales': 2 Messaging Services of the account have this name ({SALES}, {OTHER}); "
            "write the SID of the one meant") in text
    assert (f"{B}: the pools of several Messaging Services hold this sender ({SALES} (Sales), {OTHER} (Sales)): which "
            "one to keep is not guessed, so its pools are left alone; take it out of all but one") in text
    assert render_drift(plan) == (f"Drift: 1 sender in several Messaging Services. Senders: {B}. Also, 1 sender has a "
                                  "problem and could not be compared (see the errors below).\n")


def test_drift_names_a_sender_moved_out_of_its_pool() -> None:
    plan = build_plan(state(desired(A, messaging_service="Support line")), [live(A)],
                      pools=LivePools.of(POOLS.services, {SALES: [sid_of(A)]}))
    assert render_drift(plan) == f"Drift: 0 to create, 0 to update, 0 to delete, 1 sender-pool change. Senders: {A}\n"
    several = build_plan(state(desired(A, messaging_service="Sales")), [live(A)],
                         pools=LivePools.of(POOLS.services, {SALES: [sid_of(A)], OTHER: [sid_of(A)]}))
    assert render_drift(several) == f"Drift: 1 sender in several Messaging Services. Senders: {A}\n"
    both = build_plan(state(desired(A, messaging_service="Sales"), desired(B, messaging_service="Sales")),
                      [live(A), live(B)], pools=LivePools.of(POOLS.services, {SALES: [sid_of(A)], OTHER: [sid_of(A)]}))
    assert render_drift(both) == (f"Drift: 0 to create, 0 to update, 0 to delete, 1 sender-pool change; 1 sender in "
                                  f"several Messaging Services. Senders: {A}, {B}\n")


def test_services_read_as_sid_and_name() -> None:
    assert show_service({"sid": SALES, "friendly_name": "Sales"}) == f"{SALES} (Sales)"
    assert show_service({"sid": OTHER, "friendly_name": None}) == OTHER
    assert show_service(None) == "none" and show_field("messaging_service", None) == "none"


def test_pool_outcomes_are_worded_with_their_services() -> None:
    change = FieldChange("messaging_service", {"sid": SUPPORT, "friendly_name": "Support line"}, None)
    left = Outcome("pool", A, "done", "pooled", sid=sid_of(A), confirmed=True, change=change)
    assert outcome_line(left) == (f"  ✓ pool sender {A}: left {SUPPORT} (Support line); the sender is in no Messaging "
                                  "Service now")
    unconfirmed = Outcome("pool", A, "done", "already_pooled", sid=sid_of(A), confirmed=False, change=change)
    assert outcome_message(unconfirmed) == (f"already out of {SUPPORT} (Support line); but the services' pools do not "
                                            "show it so")
    error = ApiError("the sender is in another Messaging Service, MG… (Other)", status=409, code=21712, sender_id=A)
    refused = Outcome("pool", A, "failed", "refused", sid=sid_of(A), error=error, change=change)
    assert outcome_line(refused) == f"  ✗ pool {error}"


def test_a_pool_action_is_coloured_as_a_change() -> None:
    text = render_text(pool_plan(), color=True)
    assert f"  \x1b[33m~ {A} (pool" in text  # yellow, as an update
