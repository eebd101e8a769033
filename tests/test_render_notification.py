"""The words of drift's notifications: accounts, counts and the first changes, limited; errors, escaped."""

from __future__ import annotations

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.errors import ConfigError, ConfigIssue, Location, ReconcilerError
from reconciler.models import LivePools, Service
from reconciler.plan import build_plan
from reconciler.render.notification import CHANGES_LISTED, ERROR_LINES, drift_message, error_message, send_failed
from tests.factories import A, B, desired, live, number, sid_of, state

MAIN = AccountRef("AC" + "1" * 32, "Main\x1b[31m")
SUB = AccountRef("AC" + "2" * 32)


def planned(account: AccountRef, wanted: int, have: int = 0) -> AccountPlan:
    plan = build_plan(state(*(desired(number(i), profile={"name": f"S{i}"}) for i in range(wanted))),
                      [live(number(i), profile={"name": "old"}) for i in range(have)])
    return AccountPlan(account, plan)


def test_nothing_to_say_when_live_matches_the_files() -> None:
    assert drift_message([planned(MAIN, 0), planned(SUB, 0)]) is None


def test_the_message_names_each_account_that_drifted_with_its_counts_and_lists_the_first_changes() -> None:
    message = drift_message([planned(MAIN, 14, have=2), planned(SUB, 0)])
    assert message is not None and not message.failure
    assert message.title == "reconciler drift: drift in 1 of 2 accounts"
    lines = message.body.splitlines()
    assert lines[:3] == ["Drift in 1 of 2 accounts.", "",
                         f"Account {MAIN.sid} (Main\\x1b[31m): 12 to create, 2 to update, 0 to delete."]
    assert SUB.sid not in message.body  # an account in sync is not named
    assert lines[4] == "First changes:"
    assert lines[5] == f"  ~ {number(0)} (account {MAIN.sid}): profile.name"
    assert len([line for line in lines if line.startswith("  ")]) == CHANGES_LISTED
    assert lines[-1] == "… and 4 more ('reconciler drift --format json' lists them all)."


def test_problems_make_it_a_failure() -> None:
    plan = build_plan(state(protect={A: "s.yaml:3:5"}), [live(A)])
    message = drift_message([AccountPlan(SUB, plan)])
    assert message is not None and message.failure
    assert message.title == "reconciler drift: 1 account with senders that could not be compared"
    assert f"  ✗ {A}: protected at s.yaml:3:5" in message.body and "1 sender with a problem" in message.body


def test_a_declined_rename_is_drift_in_the_message() -> None:
    current = live(B, profile={"name": "Old"}, pending_display_name="New", pending_display_name_status="DECLINED")
    message = drift_message([AccountPlan(SUB, build_plan(state(desired(B, profile={"name": "New"})), [current]))])
    assert message is not None and "1 display name declined or waiting for another's review" in message.body
    assert f"  ! {B}: display name 'New' was DECLINED by Meta" in message.body


def test_a_sender_moved_out_of_its_pool_is_drift_in_the_message() -> None:
    sales, other = "MG" + "a" * 32, "MG" + "b" * 32
    pools = LivePools.of([Service(sales, "Sales"), Service(other)], {other: [sid_of(A)], sales: [sid_of(B)]})
    current = [live(A), live(B)]
    moved = build_plan(state(desired(A, messaging_service="Sales")), current[:1], pools=pools)
    message = drift_message([AccountPlan(SUB, moved)])
    assert message is not None and "0 to create, 0 to update, 0 to delete, 1 sender-pool change." in message.body
    assert f"  ~ {A}: messaging_service" in message.body
    held = LivePools.of(pools.services, {other: [sid_of(B)], sales: [sid_of(B)]})
    twice = build_plan(state(desired(B, messaging_service="Sales")), current[1:], pools=held)
    message = drift_message([AccountPlan(SUB, twice)])
    assert message is not None and f"  ! {B}: the pools of several Messaging Services hold this sender" in message.body


def test_an_error_is_its_lines_cut_short() -> None:
    message = error_message(ReconcilerError("no Twilio credentials\n(set TWILIO_ACCOUNT_SID)"))
    assert message.failure and message.title == "reconciler drift: error, drift could not be checked"
    assert "Error: no Twilio credentials\\n(set TWILIO_ACCOUNT_SID)" in message.body
    many = ConfigError([ConfigIssue(Location("s.yaml", i, 1), "bad") for i in range(1, 40)])
    lines = error_message(many).body.splitlines()
    assert "… and 21 more lines." in lines and lines[-1].startswith("Error: 39 problems in 1 desired-state file")
    assert len(lines) == 2 + ERROR_LINES


def test_a_failed_send_is_said_with_the_service_as_shown() -> None:
    assert send_failed("JSON (json://127.0.0.1:9/…)").startswith("Warning: the notification to JSON (json://127.0.0.1:9/…)")
