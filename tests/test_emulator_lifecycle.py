"""The status lifecycle and display-name review on one record, with time given by the test."""

from __future__ import annotations

import pytest

from reconciler.emulator.lifecycle import COMPLETED_REPORTED_FOR, override, schedule, settle, submit_name
from reconciler.emulator.records import DEFAULT_PROPERTIES, empty_record, iso
from reconciler.emulator.validation import ApiProblem

T0 = 1_800_000_000.0


def record(status: str = "ONLINE", name: str = "Acme") -> dict:
    rec = empty_record()
    rec.update(sid="XE" + "0" * 32, sender_id="whatsapp:+15017122661", status=status)
    rec["profile"]["name"] = name
    return rec


def test_a_scheduled_status_arrives_at_its_time_and_only_then():
    rec = record("CREATING")
    schedule(rec, T0, "ONLINE", delay=10)
    assert settle(rec, T0 + 9.99) is False and rec["status"] == "CREATING"
    assert settle(rec, T0 + 10) is True and rec["status"] == "ONLINE"
    assert rec["properties"] == DEFAULT_PROPERTIES
    assert settle(rec, T0 + 1000) is False  # nothing left to do


def test_a_name_is_approved_halfway_then_applied_then_forgotten():
    rec = record()
    assert submit_name(rec, "Acme Two", T0, review_delay=100) == "updating"
    assert (rec["pending_display_name_status"], rec["profile"]["name"]) == ("PENDING_REVIEW", "Acme")
    assert settle(rec, T0 + 50) and rec["pending_display_name_status"] == "APPROVED"
    assert rec["pending_display_name_status_date"] == iso(T0 + 50)
    assert settle(rec, T0 + 100) and rec["profile"]["name"] == "Acme Two"
    assert rec["pending_display_name_status"] == "COMPLETED"
    assert not settle(rec, T0 + 100 + COMPLETED_REPORTED_FOR)  # still reported for 14 days
    assert settle(rec, T0 + 101 + COMPLETED_REPORTED_FOR) and "pending_display_name_status" not in rec


def test_without_a_review_delay_a_name_stays_in_review():
    rec = record()
    submit_name(rec, "Acme Two", T0, review_delay=None)
    assert not settle(rec, T0 + 10**9) and rec["pending_display_name_status"] == "PENDING_REVIEW"


@pytest.mark.parametrize(
    ("pending_status", "name", "expected"),
    [
        ("PENDING_REVIEW", "Next", "pending_review"),
        ("APPROVED", "Next", "updating"),
        (None, "Acme", "no_change"),
        ("PIN_MISMATCH", "Next", "updating"),
    ],
)
def test_what_a_resubmitted_name_reports(pending_status, name, expected):
    rec = record()
    if pending_status:
        override(rec, {"pending_display_name": "Next", "pending_display_name_status": pending_status}, T0)
    assert submit_name(rec, name, T0 + 1, review_delay=None) == expected


def test_a_declined_name_cannot_be_resubmitted():
    rec = record()
    override(rec, {"pending_display_name": "Bad", "pending_display_name_status": "DECLINED"}, T0)
    with pytest.raises(ApiProblem, match="declined by Meta"):
        submit_name(rec, "Bad", T0, review_delay=None)


def test_override_cancels_what_was_scheduled():
    rec = record("CREATING")
    schedule(rec, T0, "ONLINE", delay=10)
    submit_name(rec, "Next", T0, review_delay=10)
    override(rec, {"status": "OFFLINE", "pending_display_name_status": "COMPLETED"}, T0 + 1)
    assert not settle(rec, T0 + 20)
    assert (rec["status"], rec["profile"]["name"]) == ("OFFLINE", "Next")
    assert rec["pending_display_name_status_date"] == iso(T0 + 1)
    with pytest.raises(ValueError, match="sender_id cannot be changed"):
        override(rec, {"sender_id": "whatsapp:+15017122662"}, T0)
