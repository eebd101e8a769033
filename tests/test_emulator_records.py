"""A sender as the emulator's store keeps it (a record) and as its API shows it (the representation)."""

from __future__ import annotations

import json

import pytest

from reconciler.emulator.records import (
    PENDING_NAME_FIELDS,
    copy_json,
    dumps,
    empty_record,
    encode_parts,
    iso,
    parse_iso,
    render,
)
from reconciler.models import SENDERS_PATH, LiveSender

SID = "XE" + "a" * 32


def record(**fields: object) -> dict:
    rec = empty_record()
    rec.update({"sid": SID, "status": "ONLINE", "sender_id": "whatsapp:+15017122661"})
    rec["profile"].update({"name": "Café ☕", "emails": [{"email": "a@x.example", "label": "Email"}]})
    rec.update(fields)
    return rec


def test_dates_are_iso_8601_in_utc_to_the_second_and_read_back():
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1_700_000_000.9) == "2023-11-14T22:13:20Z"
    assert parse_iso(iso(1_700_000_000)) == 1_700_000_000
    for junk in ("", "yesterday", "2023-13-01T00:00:00Z"):
        assert parse_iso(junk) is None
    assert parse_iso(None) is None  # type: ignore[arg-type]


def test_json_is_compact_utf8_text():
    assert dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'


def test_an_empty_record_has_every_field_unset_and_the_bookkeeping_apart():
    rec = empty_record()
    assert rec["sid"] is rec["status"] is rec["sender_id"] is None
    assert "verification_code" not in rec["configuration"]  # never stored: it is shown as null
    assert all(v is None for section in ("configuration", "webhook", "profile") for v in rec[section].values())
    assert rec["_emulator"]["seq"] == 0 and empty_record() is not rec and empty_record()["profile"] is not rec["profile"]


def test_copy_json_copies_what_a_record_holds():
    value = {"emails": [{"email": "a"}], "name": "x", "n": None}
    copied = copy_json(value)
    assert copied == value and copied is not value
    assert copied["emails"] is not value["emails"] and copied["emails"][0] is not value["emails"][0]


def test_the_representation_is_a_fresh_copy_without_the_bookkeeping():
    rec = record()
    shown = render(rec, "http://127.0.0.1:8080")
    assert shown["url"] == f"http://127.0.0.1:8080{SENDERS_PATH}/{SID}"
    assert "_emulator" not in shown and shown["configuration"]["verification_code"] is None
    shown["profile"]["emails"].append({"email": "b@x.example"})
    assert len(rec["profile"]["emails"]) == 1
    assert not set(PENDING_NAME_FIELDS) & set(shown)
    assert LiveSender.model_validate(shown).sender_id == "whatsapp:+15017122661"  # the client reads it


def test_pending_display_name_fields_are_shown_only_while_a_change_is_reported():
    rec = record(pending_display_name="New", pending_display_name_status="PENDING_REVIEW",
                 pending_display_name_status_date=iso(0))
    shown = render(rec, "")
    assert [shown[k] for k in PENDING_NAME_FIELDS] == ["New", "PENDING_REVIEW", "1970-01-01T00:00:00Z"]


@pytest.mark.parametrize("base_url", ["", "http://127.0.0.1:8080", "https://messaging.twilio.com", 'http://a"b\\c/é'])
@pytest.mark.parametrize("pending", [False, True])
def test_the_encoded_parts_with_any_base_url_between_them_are_the_whole(base_url, pending):
    rec = record(pending_display_name="N", pending_display_name_status="APPROVED") if pending else record()
    head, tail = encode_parts(rec)
    whole = head + dumps(base_url)[:-1].encode() + tail
    assert whole == dumps(render(rec, base_url)).encode()
    assert json.loads(whole)["url"] == f"{base_url}{SENDERS_PATH}/{SID}"
